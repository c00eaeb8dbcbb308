#!/usr/bin/env node
// The tables of a saved run as Markdown, for the READMEs:
//   node benchmarks/lib/markdown.mjs benchmarks/results/<date>.json
import { readFileSync } from 'node:fs';
import { addRatios, groupKind } from './table.mjs';

const us = (ns) =>
  Number.isFinite(ns) ? (ns >= 100_000 ? (ns / 1000).toFixed(0) : (ns / 1000).toFixed(1)) : '-';
const times = (x) => (x === undefined ? '-' : `${x.toFixed(2)}×`);
const k = (r) => (r >= 10_000 ? `${Math.round(r / 1000)}k` : String(Math.round(r)));
const bytes = (b) =>
  Number.isFinite(b) ? (Math.abs(b) >= 10_000 ? `${(b / 1024).toFixed(1)}k` : b.toFixed(0)) : '-';

const KINDS = {
  rtt: {
    header: [
      'group',
      'row',
      'p50 µs',
      'p99 µs',
      'p99.9 µs',
      'CPU µs/rt client+server',
      'p50 vs node:net',
      'p50 vs floor',
    ],
    cells: (r) => [
      us(r.p50Ns),
      us(r.p99Ns),
      us(r.p999Ns),
      r.cpuClientNs === undefined && r.cpuServerNs === undefined
        ? '-'
        : `${us(r.cpuClientNs)} + ${us(r.cpuServerNs)}`,
      times(r.ratioBaseline),
      times(r.ratioFloor),
    ],
  },
  bulk: {
    header: ['group', 'row', 'MB/s', 'vs node:net'],
    cells: (r) => [r.MBps.toFixed(0), times(r.ratioBaseline)],
  },
  scaling: {
    header: [
      'group',
      'row',
      'clients',
      'messages/s',
      'server RSS MiB',
      'bytes/conn',
      'server CPU µs/msg',
      'vs node:net',
    ],
    cells: (r) => [
      r.clients ?? '-',
      k(r.msgsPerSec),
      Number.isFinite(r.serverRssBytes) ? (r.serverRssBytes / 2 ** 20).toFixed(0) : '-',
      bytes(r.bytesPerConnection),
      us(r.serverCpuNsPerMsg),
      times(r.ratioBaseline),
    ],
  },
  memory: {
    header: [
      'group',
      'row',
      'connections',
      'bytes/conn',
      'JS heap',
      'heap reserve',
      'buffers',
      'native',
      'vs node:net',
    ],
    cells: (r) => [
      r.clients ?? '-',
      bytes(r.idleBytesPerConnection),
      bytes(r.breakdown?.jsHeapBytes),
      bytes(r.breakdown?.heapReserveBytes),
      bytes(r.breakdown?.buffersBytes),
      bytes(r.breakdown?.nativeBytes),
      times(r.ratioBaseline),
    ],
  },
};

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
