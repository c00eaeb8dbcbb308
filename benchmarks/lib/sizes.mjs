// The ping-pong message sizes every row module measures, one group each.
export const SIZES = [
  { group: 'rtt-64', bytes: 64, label: '64 B' },
  { group: 'rtt-1k', bytes: 1024, label: '1 KiB' },
];

/** The client arguments every ping-pong row passes. */
export function countArgs(ctx, size) {
  return [
    '--size',
    String(size.bytes),
    '--warmup',
    String(ctx.warmup),
    '--iterations',
    String(ctx.iterations),
  ];
}
