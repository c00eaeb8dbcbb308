// The user-level TCP/IP stack itself (@demi/inetstack), no device and no kernel:
// two stacks joined by an in-memory link, driven from one thread. Small-message
// ping-pong (what the stack costs per round trip) and bulk TCP throughput.
// Not comparable one-to-one with the two-process rows: there is no wake-up and no
// second core here, only protocol processing.
import { bulk, pingPong } from '../../packages/inetstack/bench/bench.mjs';
import { SIZES } from '../lib/sizes.mjs';

/** Packages the runner builds (through nx, cached) before these rows run. */
export const needs = ['@demi/core', '@demi/inetstack'];

const BULK = [
  { id: 'inetstack-bulk', label: 'inetstack TCP, 2 stacks in 1 thread, MTU 1500', options: {} },
  {
    id: 'inetstack-bulk-offload',
    label: 'inetstack TCP, same, checksums offloaded',
    options: { offload: true },
  },
  { id: 'inetstack-bulk-jumbo', label: 'inetstack TCP, same, MTU 9000', options: { mtu: 9000 } },
  {
    id: 'inetstack-bulk-tso',
    label: 'inetstack TCP, same, checksums offloaded, 64 KiB segments (TSO/GRO)',
    options: { offload: true, tso: true },
  },
];

export function rows() {
  const rtt = SIZES.map((size) => ({
    id: `inetstack-engine-${size.bytes}`,
    group: size.group,
    label: 'inetstack engine, 2 stacks in 1 thread',
    async run(ctx) {
      ctx.progress(0, 'ping-pong');
      const samplesNs = pingPong(ctx.iterations, size.bytes, ctx.warmup);
      ctx.progress(1);
      return { samplesNs };
    },
  }));
  const tput = BULK.map(({ id, label, options }) => ({
    id,
    group: 'bulk',
    label,
    async run(ctx) {
      const bytes = (ctx.quick ? 16 : 256) * 1024 * 1024;
      const runs = ctx.quick ? 1 : 3;
      bulk(8 << 20, options); // warm-up (JIT)
      const rates = [];
      for (let i = 0; i < runs; i++) {
        if (ctx.signal?.aborted) throw new Error('aborted');
        const r = bulk(bytes, options);
        rates.push(r.gbps * 1000);
        ctx.progress((i + 1) / runs, `${(r.gbps).toFixed(2)} Gbit/s`);
        // Give the event loop a turn between runs (progress output, abort signal).
        await new Promise((resolve) => setImmediate(resolve));
      }
      rates.sort((a, b) => a - b);
      const mbps = rates[rates.length >> 1];
      return { mbps, runsMbps: rates };
    },
  }));
  return [...rtt, ...tput];
}
