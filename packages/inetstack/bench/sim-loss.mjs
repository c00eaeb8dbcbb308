#!/usr/bin/env node
// Loss recovery as a sender, in virtual time: one stack sends MiB to another
// across a link that drops a share of frames each way and delays every frame,
// so the result is the protocol's alone. Prints goodput and how losses were repaired.
//   node bench/sim-loss.mjs [--loss 1,5] [--mib 32] [--delay 0.05] [--rate bytes/s, 0 = none] [--cc cubic] [--seed 7]
// (--rate polices: frames beyond the bucket are dropped, not queued.)
import { Simulator } from '@demi/inetstack';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []),
);
const losses = (args.loss ?? '1,5').split(',').map(Number);
const mib = Number(args.mib ?? 32);
const delayMs = Number(args.delay ?? 0.05);
const rate = Number(args.rate ?? 0);
const cc = args.cc ?? 'cubic';
const seed = Number(args.seed ?? 7);

function run(loss) {
  const sim = new Simulator({ seed });
  const faults = {
    dropPct: loss,
    delayPct: 100,
    delayMs,
    ...(rate > 0 ? { rateBytesPerSec: rate, rateBurstBytes: 64 * 1024 } : {}),
  };
  const config = { tcp: { congestionControl: cc } };
  const a = sim.add({ ipv4: '10.0.0.1', config, faults });
  const b = sim.add({ ipv4: '10.0.0.2', config, faults });
  const l = a.tcp.listen(80, 4);
  const client = b.tcp.connect(0x0a000001, 80);
  let server;
  sim.runUntil(() => (server ??= l.accept()) !== undefined && client.state === 4);
  const data = new Uint8Array(1 << 20).fill(7);
  const total = mib << 20;
  const sink = new Uint8Array(1 << 20);
  let sent = 0;
  let got = 0;
  const t0 = sim.now;
  const s0 = { ...b.stats };
  const ok = sim.runUntil(() => {
    while (sent < total) {
      const n = client.write(data, 0, Math.min(data.length, total - sent));
      if (n === 0) break;
      sent += n;
    }
    for (;;) {
      const n = server.read(sink);
      if (n === 0) break;
      got += n;
    }
    return got === total;
  }, 600_000);
  const ms = sim.now - t0;
  const d = (k) => b.stats[k] - s0[k];
  const dropped = sim.nodes[0].faults.stats.dropped + sim.nodes[1].faults.stats.dropped;
  console.log(
    `${loss}% loss, ${mib} MiB, one-way ${delayMs} ms, ${rate > 0 ? `${(rate * 8) / 1e6} Mbit/s link` : 'no rate limit'}, ${cc}: ` +
      `${ok ? '' : 'INCOMPLETE '}${ms.toFixed(0)} ms virtual, ${((got * 8) / ms / 1000).toFixed(1)} Mbit/s; ` +
      `dropped ${dropped}, retransmits ${d('tcpRetransmits')}, recoveries ${d('tcpFastRetransmits')}, ` +
      `RTOs ${d('tcpTimeouts')}, TLPs ${d('tcpTailLossProbes')}, lost rtx ${d('tcpLostRetransmits')}`,
  );
}
for (const loss of losses) run(loss);
