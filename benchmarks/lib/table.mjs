// The results tables: one per kind of workload (round trips, bulk, connections),
// one block per group, ratios against the group's baseline (node:net) and floor rows.

const us = (ns) =>
  Number.isFinite(ns) ? (ns >= 100_000 ? (ns / 1000).toFixed(0) : (ns / 1000).toFixed(1)) : '-';
const rate = (r) =>
  Number.isFinite(r) ? (r >= 10_000 ? `${Math.round(r / 1000)}k` : String(Math.round(r))) : '-';
const times = (x) => (x === undefined ? '-' : `${x.toFixed(2)}×`);
const mib = (b) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(0) : '-');
const bytes = (b) =>
  Number.isFinite(b) ? (Math.abs(b) >= 10_000 ? `${(b / 1024).toFixed(1)}k` : b.toFixed(0)) : '-';

/** The kind of a group: that of its measured rows, else guessed from its name. */
export function groupKind(members) {
  const measured = members.find((r) => r.kind !== undefined);
  if (measured) return measured.kind;
  const group = members[0]?.group ?? '';
  if (group.includes('bulk')) return 'bulk';
  if (group === 'conn-idle') return 'memory';
  if (group.startsWith('conn-')) return 'scaling';
  if (group === 'modules') return 'modules';
  return 'rtt';
}

/** The number each kind compares: p50 or bytes (lower is better) or a rate (higher is better). */
const metric = {
  rtt: (r) => r.p50Ns,
  bulk: (r) => r.mbps,
  scaling: (r) => r.msgsPerSec,
  memory: (r) => r.idleBytesPerConnection,
};

/** Groups the results and adds ratioBaseline / ratioFloor to each measured result. */
export function addRatios(results) {
  const groups = new Map();
  for (const r of results) {
    if (!groups.has(r.group)) groups.set(r.group, []);
    groups.get(r.group).push(r);
  }
  for (const members of groups.values()) {
    const value = metric[groupKind(members)];
    if (!value) continue;
    const ok = (r) => r.kind !== undefined && Number.isFinite(value(r));
    const baseline = members.find((r) => r.role === 'baseline' && ok(r));
    const floor = members.find((r) => r.role === 'floor' && ok(r));
    for (const r of members) {
      if (!ok(r)) continue;
      // A row may name its own floor (e.g. a shared-memory LibOS and its C ring).
      const own = r.floor !== undefined ? members.find((m) => m.id === r.floor && ok(m)) : floor;
      if (baseline) r.ratioBaseline = value(r) / value(baseline);
      if (own) r.ratioFloor = value(r) / value(own);
    }
  }
  return groups;
}

/** Per kind of workload: its title, header and how a measured row fills the cells after group and row. */
export const COLUMNS = {
  rtt: {
    title: 'Ping-pong round trips (lower is better)',
    header: [
      'group',
      'row',
      'p50 µs',
      'p99 µs',
      'p99.9 µs',
      'round trips/s',
      'CPU µs/rt client+server',
      'p50 vs node:net',
      'p50 vs floor',
    ],
    cells: (r) => [
      us(r.p50Ns),
      us(r.p99Ns),
      us(r.p999Ns),
      rate(r.roundTripsPerSec),
      cpu(r),
      times(r.ratioBaseline),
      times(r.ratioFloor),
    ],
  },
  bulk: {
    title: 'Bulk one-way throughput (higher is better)',
    header: ['group', 'row', 'MB/s', 'runs MB/s', 'vs node:net'],
    cells: (r) => [
      r.MBps.toFixed(0),
      r.runsMbps && r.runsMbps.length > 1
        ? `${(Math.min(...r.runsMbps) / 8).toFixed(0)}–${(Math.max(...r.runsMbps) / 8).toFixed(0)}`
        : '-',
      times(r.ratioBaseline),
    ],
  },
  scaling: {
    title: 'Concurrent echo clients, 64 B messages (higher is better)',
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
      rate(r.msgsPerSec),
      mib(r.serverRssBytes),
      bytes(r.bytesPerConnection),
      us(r.serverCpuNsPerMsg),
      times(r.ratioBaseline),
    ],
  },
  memory: {
    title: 'Idle connections: server memory per connection, after a full GC (lower is better)',
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
  modules: { title: 'Row modules', header: ['group', 'row', ''], cells: () => [''] },
};

function cpu(r) {
  if (r.cpuClientNs === undefined && r.cpuServerNs === undefined) return '-';
  return `${us(r.cpuClientNs)} + ${us(r.cpuServerNs)}`;
}

/** Formats one table for a kind; undefined when no group has that kind. */
function formatKind(kind, groups) {
  const { title, header, cells } = COLUMNS[kind];
  const lines = [header];
  for (const [group, members] of groups) {
    if (groupKind(members) !== kind) continue;
    members.forEach((r, i) => {
      const name = i === 0 ? group : '';
      if (r.skip !== undefined || r.error !== undefined) {
        lines.push([
          name,
          r.label,
          r.error !== undefined ? `ERROR: ${r.error}` : `skipped: ${r.skip}`,
        ]);
      } else {
        lines.push([name, r.label, ...cells(r)]);
      }
    });
  }
  if (lines.length === 1) return undefined;
  const widths = header.map((_, c) =>
    Math.max(...lines.filter((l) => l.length === header.length).map((l) => String(l[c]).length)),
  );
  const body = lines.map((l) => {
    if (l.length !== header.length)
      return `${l[0].padEnd(widths[0])}  ${l[1].padEnd(widths[1])}  ${l[2]}`;
    return l
      .map((cell, c) => (c < 2 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('  ')
      .trimEnd();
  });
  return `${title}\n${body.join('\n')}`;
}

export function formatTable(results) {
  const groups = addRatios(results);
  return ['rtt', 'bulk', 'scaling', 'memory', 'modules']
    .map((kind) => formatKind(kind, groups))
    .filter((t) => t !== undefined)
    .join('\n\n');
}
