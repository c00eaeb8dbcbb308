// The results table: one block per group, ratios against the group's baseline
// (node:net) and floor rows.

const us = (ns) => (Number.isFinite(ns) ? (ns / 1000).toFixed(1) : '-');
const rate = (r) =>
  Number.isFinite(r) ? (r >= 10_000 ? `${Math.round(r / 1000)}k` : String(Math.round(r))) : '-';

/** Adds ratioBaseline / ratioFloor (p50 over the group's baseline and floor p50) to each result. */
export function addRatios(results) {
  const groups = new Map();
  for (const r of results) {
    if (!groups.has(r.group)) groups.set(r.group, []);
    groups.get(r.group).push(r);
  }
  for (const members of groups.values()) {
    const baseline = members.find((r) => r.role === 'baseline' && r.p50Ns !== undefined);
    const floor = members.find((r) => r.role === 'floor' && r.p50Ns !== undefined);
    for (const r of members) {
      if (r.p50Ns === undefined) continue;
      // A row may name its own floor (e.g. a shared-memory LibOS and its C ring).
      const own =
        r.floor !== undefined
          ? members.find((m) => m.id === r.floor && m.p50Ns !== undefined)
          : floor;
      if (baseline) r.ratioBaseline = r.p50Ns / baseline.p50Ns;
      if (own) r.ratioFloor = r.p50Ns / own.p50Ns;
    }
  }
  return groups;
}

export function formatTable(results) {
  const groups = addRatios(results);
  const header = [
    'group',
    'row',
    'p50 µs',
    'p99 µs',
    'p99.9 µs',
    'round trips/s',
    'p50 vs node:net',
    'p50 vs floor',
  ];
  const lines = [header];
  for (const [group, members] of groups) {
    members.forEach((r, i) => {
      const name = i === 0 ? group : '';
      if (r.skip !== undefined || r.error !== undefined) {
        lines.push([
          name,
          r.label,
          r.error !== undefined ? `ERROR: ${r.error}` : `skipped: ${r.skip}`,
        ]);
      } else {
        lines.push([
          name,
          r.label,
          us(r.p50Ns),
          us(r.p99Ns),
          us(r.p999Ns),
          rate(r.roundTripsPerSec),
          r.ratioBaseline === undefined ? '-' : `${r.ratioBaseline.toFixed(2)}×`,
          r.ratioFloor === undefined ? '-' : `${r.ratioFloor.toFixed(2)}×`,
        ]);
      }
    });
  }
  const widths = header.map((_, c) =>
    Math.max(...lines.filter((l) => l.length === header.length).map((l) => String(l[c]).length)),
  );
  return lines
    .map((l) => {
      if (l.length !== header.length)
        return `${l[0].padEnd(widths[0])}  ${l[1].padEnd(widths[1])}  ${l[2]}`;
      return l
        .map((cell, c) =>
          c < 2 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
        )
        .join('  ');
    })
    .join('\n');
}
