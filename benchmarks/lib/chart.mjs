// The results chart as SVG, written by hand (no dependency): per round-trip
// group, each row's p50 (dot), p50–p99 (bar) and p99–p99.9 (whisker) on a log
// scale; per bulk and connection group, bars of throughput.
import { addRatios, groupKind } from './table.mjs';

const W = 1000;
const LABEL_W = 330;
const X0 = LABEL_W + 10;
const X1 = W - 90;
const ROW_H = 20;
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

const COLORS = [
  ['floor', '#222222'],
  ['node:net', '#8a8a8a'],
  ['catnap', '#1f77b4'],
  ['catmem', '#2ca02c'],
  ['catloop', '#9467bd'],
  ['catpowder', '#ff7f0e'],
  ['catnip', '#d62728'],
  ['inetstack', '#17becf'],
];
function color(r) {
  if (r.role === 'floor' || r.label.includes('(floor)')) return COLORS[0][1];
  if (r.role === 'baseline') return COLORS[1][1];
  return COLORS.find(([k]) => r.label.includes(k))?.[1] ?? '#555555';
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tick = (v) => (v >= 1000 ? `${v / 1000}k` : v >= 1 ? String(v) : v.toPrecision(1));
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function text(x, y, s, attrs = '') {
  const size = attrs.includes('font-size') ? '' : ' font-size="12"';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT}${size} ${attrs}>${esc(s)}</text>`;
}

function rttPanel(group, members, y) {
  const ok = members.filter((r) => r.kind === 'rtt');
  const out = [];
  const lo = Math.min(...ok.map((r) => r.p50Ns / 1000));
  const hi = Math.max(...ok.map((r) => r.p999Ns / 1000));
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(hi)));
  const x = (v) => X0 + ((Math.log10(v) - d0) / (d1 - d0)) * (X1 - X0);
  out.push(
    text(
      10,
      y + 14,
      `${group}: round trip µs, log scale — dot p50, bar p50–p99, line to p99.9`,
      'font-weight="bold"',
    ),
  );
  const top = y + 24;
  const bottom = top + members.length * ROW_H;
  for (let d = d0; d <= d1; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (v > 10 ** d1) break;
      const gx = x(v);
      out.push(
        `<line x1="${gx.toFixed(1)}" y1="${top}" x2="${gx.toFixed(1)}" y2="${bottom}" stroke="${m === 1 ? '#bbbbbb' : '#e5e5e5'}" stroke-width="1"/>`,
      );
      // Over many decades only the powers of ten get a label.
      if (m === 1 || d1 - d0 <= 3)
        out.push(text(gx, bottom + 14, tick(v), 'text-anchor="middle" fill="#444"'));
    }
  }
  members.forEach((r, i) => {
    const cy = top + i * ROW_H + ROW_H / 2;
    out.push(text(LABEL_W, cy + 4, r.label, 'text-anchor="end"'));
    if (r.kind !== 'rtt') {
      out.push(
        text(
          X0,
          cy + 4,
          r.error !== undefined ? `error: ${r.error}` : `skipped: ${r.skip}`,
          'fill="#999" font-style="italic"',
        ),
      );
      return;
    }
    const c = color(r);
    const [p50, p99, p999] = [r.p50Ns, r.p99Ns, r.p999Ns].map((v) => x(v / 1000));
    out.push(
      `<line x1="${p99.toFixed(1)}" y1="${cy}" x2="${p999.toFixed(1)}" y2="${cy}" stroke="${c}" stroke-width="1.5"/>`,
    );
    out.push(
      `<line x1="${p999.toFixed(1)}" y1="${cy - 4}" x2="${p999.toFixed(1)}" y2="${cy + 4}" stroke="${c}" stroke-width="1.5"/>`,
    );
    out.push(
      `<rect x="${p50.toFixed(1)}" y="${cy - 5}" width="${Math.max(1, p99 - p50).toFixed(1)}" height="10" fill="${c}" fill-opacity="0.35" stroke="${c}"/>`,
    );
    out.push(`<circle cx="${p50.toFixed(1)}" cy="${cy}" r="4" fill="${c}"/>`);
    out.push(text(X1 + 6, cy + 4, `p50 ${fmt(r.p50Ns / 1000)}`, 'fill="#333" font-size="11"'));
  });
  return { svg: out.join('\n'), height: bottom - y + 24 };
}

function barPanel(group, members, y, kind) {
  const value = kind === 'bulk' ? (r) => r.MBps : (r) => r.msgsPerSec;
  const unit =
    kind === 'bulk'
      ? `MB/s${group === 'bulk-64k' ? ', 64 KiB pushes over loopback TCP' : ''}`
      : `echoed 64 B messages/s, ${members[0]?.clients ?? group.slice(5)} concurrent clients`;
  const ok = members.filter((r) => r.kind === kind);
  const max = Math.max(...ok.map(value));
  const out = [text(10, y + 14, `${group}: ${unit} (higher is better)`, 'font-weight="bold"')];
  const top = y + 24;
  members.forEach((r, i) => {
    const cy = top + i * ROW_H + ROW_H / 2;
    out.push(text(LABEL_W, cy + 4, r.label, 'text-anchor="end"'));
    if (r.kind !== kind) {
      out.push(
        text(
          X0,
          cy + 4,
          r.error !== undefined ? `error: ${r.error}` : `skipped: ${r.skip}`,
          'fill="#999" font-style="italic"',
        ),
      );
      return;
    }
    const w = (value(r) / max) * (X1 - X0);
    out.push(
      `<rect x="${X0}" y="${cy - 6}" width="${Math.max(1, w).toFixed(1)}" height="12" fill="${color(r)}" fill-opacity="0.8"/>`,
    );
    const v = value(r);
    const label =
      kind === 'bulk' ? v.toFixed(0) : v >= 10_000 ? `${Math.round(v / 1000)}k` : v.toFixed(0);
    out.push(text(X0 + w + 6, cy + 4, label, 'fill="#333" font-size="11"'));
  });
  return { svg: out.join('\n'), height: members.length * ROW_H + 40 };
}

/** The SVG document for a run's results. */
export function renderChart(results, { date, machine, quick }) {
  const groups = addRatios(results.filter((r) => r.group !== 'modules'));
  const parts = [];
  let y = 10;
  const title = `demi benchmarks, ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (quick smoke run: numbers mean nothing)' : ''}`;
  parts.push(text(10, y + 16, title, 'font-size="16" font-weight="bold"'));
  parts.push(
    text(
      10,
      y + 34,
      `${machine.cpus} × ${machine.model}, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg.join(' ')}`,
      'fill="#444"',
    ),
  );
  y += 50;
  for (const kind of ['rtt', 'bulk', 'scaling']) {
    for (const [group, members] of groups) {
      if (groupKind(members) !== kind || !members.some((r) => r.kind === kind)) continue;
      const panel =
        kind === 'rtt' ? rttPanel(group, members, y) : barPanel(group, members, y, kind);
      parts.push(panel.svg);
      y += panel.height + 10;
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
