import { describe, expect, it } from 'vitest';
import { Simulator } from '../src/sim/simulator.js';
import type { TcpConnection } from '../src/tcp/connection.js';
import { TcpState } from '../src/tcp/state.js';
import { parseIPv4 } from '../src/util/addr.js';

const A = parseIPv4('10.0.0.1')!;

describe('tcp smoke', () => {
  it('connects, moves data both ways, closes', () => {
    const sim = new Simulator({ seed: 7 });
    const a = sim.add({ ipv4: '10.0.0.1' });
    const b = sim.add({ ipv4: '10.0.0.2' });
    const l = a.tcp.listen(80, 16);
    if (typeof l === 'number') throw new Error('listen');
    const cb = b.tcp.connect(A, 80) as TcpConnection;
    let server: TcpConnection | undefined;
    expect(
      sim.runUntil(
        () => (server ??= l.accept()) !== undefined && cb.state === TcpState.ESTABLISHED,
        10_000,
      ),
    ).toBe(true);
    const msg = new Uint8Array(100_000).map((_, i) => i * 7);
    let sent = 0;
    const got = new Uint8Array(msg.length);
    let have = 0;
    expect(
      sim.runUntil(() => {
        if (sent < msg.length) sent += cb.write(msg, sent);
        have += server!.read(got, have);
        return have === msg.length;
      }, 10_000),
    ).toBe(true);
    expect(Buffer.compare(got, msg)).toBe(0);
    cb.close();
    server!.close();
    expect(
      sim.runUntil(() => a.tcp.connectionCount === 0 && b.tcp.connectionCount === 0, 200_000),
    ).toBe(true);
    expect(sim.errors).toEqual([]);
  });
});
