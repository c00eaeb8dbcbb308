import { describe, expect, it } from 'vitest';
import { Simulator } from '../src/sim/simulator.js';
import type { TcpConnection } from '../src/tcp/connection.js';

// A bulk sender over a link dropping frames at random in both directions (every
// frame also delayed 50 µs, so there is an RTT): losses must be repaired by SACK
// recovery and loss probes, not by the retransmission timer. Counts, not speed:
// the runs are in virtual time and seeded, so they are the same every time.
function bulk(lossPct: number, seed: number, bytes: number) {
  const sim = new Simulator({ seed });
  const faults = { dropPct: lossPct, delayPct: 100, delayMs: 0.05 };
  const a = sim.add({ ipv4: '10.0.0.1', faults });
  const b = sim.add({ ipv4: '10.0.0.2', faults });
  const l = a.tcp.listen(80, 4);
  if (typeof l === 'number') throw new Error('listen failed');
  const client = b.tcp.connect(0x0a000001, 80);
  if (typeof client === 'number') throw new Error('connect failed');
  let server: TcpConnection | undefined;
  const data = new Uint8Array(bytes).map((_, i) => (i * 7 + (i >>> 11)) & 0xff);
  const got = new Uint8Array(bytes);
  let sent = 0;
  let have = 0;
  const done = sim.runUntil(() => {
    server ??= l.accept();
    if (server === undefined) return false;
    if (sent < bytes) sent += client.write(data, sent);
    have += server.read(got, have);
    return have === bytes;
  }, 600_000);
  expect(sim.errors).toEqual([]);
  return { done, exact: Buffer.compare(got, data) === 0, stats: b.stats };
}

describe('loss recovery as a sender (simulated, seeded)', () => {
  for (const seed of [1, 2, 3]) {
    it(`5% loss each way, seed ${seed}: 4 MiB byte-exact without a single RTO`, () => {
      const r = bulk(5, seed, 4 << 20);
      expect(r.done && r.exact).toBe(true);
      expect(r.stats.tcpFastRetransmits).toBeGreaterThan(50);
      expect(r.stats.tcpTimeouts).toBe(0);
    });
  }

  it('10% loss each way: timeouts stay rare (under 2% of recoveries)', () => {
    const r = bulk(10, 4, 4 << 20);
    expect(r.done && r.exact).toBe(true);
    expect(r.stats.tcpTimeouts).toBeLessThan(r.stats.tcpFastRetransmits / 50);
  });
});
