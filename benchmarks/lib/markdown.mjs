#!/usr/bin/env node
// The tables of a saved run as Markdown, for the READMEs:
//   node benchmarks/lib/markdown.mjs benchmarks/results/<date>.json
import { readFileSync } from 'node:fs';
import { addRatios, COLUMNS, groupKind } from './table.mjs';

/** Columns the terminal shows that the READMEs leave out. */
const OMIT = new Set(['round trips/s', 'runs MB/s']);

/** The terminal's columns (table.mjs), less those. */
const KINDS = Object.fromEntries(
  Object.entries(COLUMNS)
    .filter(([kind]) => kind !== 'modules')
    .map(([kind, { header, cells }]) => {
      const keep = header.map((h) => !OMIT.has(h));
      return [
        kind,
        {
          header: header.filter((_, i) => keep[i]),
          cells: (r) => cells(r).filter((_, i) => keep[i + 2]),
        },
      ];
    }),
);

export function markdown(rows) {
  const groups = addRatios(rows.filter((r) => r.group !== 'modules'));
  const out = [];
  for (const [kind, { header, cells }] of Object.entries(KINDS)) {
    const lines = [];
    for (const [group, members] of groups) {
      if (groupKind(members) !== kind) continue;
      for (const r of members) {
        const rest =
          r.kind === kind
            ? cells(r)
            : [
                r.error !== undefined ? `error: ${r.error}` : `skipped: ${r.skip}`,
                ...Array(header.length - 3).fill(''),
              ];
        lines.push(`| ${[group, r.label, ...rest].join(' | ')} |`);
      }
    }
    if (lines.length === 0) continue;
    out.push(
      [
        `| ${header.join(' | ')} |`,
        `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
        ...lines,
      ].join('\n'),
    );
  }
  return out.join('\n\n');
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  console.log(markdown(run.rows));
}
