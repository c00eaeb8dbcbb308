import type { FaultOptions } from '../../src/device/fault-device.js';
import type { MemoryLinkOptions } from '../../src/device/memory-link.js';
import { type SimNodeOptions, Simulator } from '../../src/sim/simulator.js';
import type { StackConfigInput } from '../../src/stack/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { parseIPv4 } from '../../src/util/addr.js';

export interface TransferOptions {
  seed: number;
  bytes: number;
  faults?: FaultOptions;
  tcp?: NonNullable<StackConfigInput['tcp']>;
  /** Virtual time allowed (ms). */
  limitMs?: number;
  pcap?: string;
  /** The link both stacks share (e.g. with segmentation offload). */
  link?: MemoryLinkOptions;
  /** Wraps both nodes' devices (see SimNodeOptions.wrap). */
  wrap?: SimNodeOptions['wrap'];
}

export interface TransferResult {
  ok: boolean;
  why: string;
  virtualMs: number;
  retransmits: number;
  /** Segments larger than one MTU handed to the device, and received, by both stacks. */
  offloadSegments?: number;
  largeSegmentsIn?: number;
  /** Frames both stacks handed to their devices in parts (sendParts). */
  framesInParts?: number;
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Two stacks exchange `bytes` in both directions at once over a faulty link,
 * then both close. Succeeds when every byte arrived intact and in order, both
 * sides saw EOF, every connection was released, and no stack raised an error.
 */
export function runTransfer(o: TransferOptions): TransferResult {
  const sim = new Simulator({ seed: o.seed, ...(o.link ? { link: o.link } : {}) });
  // ARP and the handshake get more tries than by default: at 30% loss both ways, four ARP
  // requests or seven SYNs all failing is a likely event across thousands of runs.
  const config = { tcp: { synRetries: 12, ...o.tcp }, arp: { retries: 12 } };
  const a = sim.add({
    ipv4: '10.0.0.1',
    config,
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.pcap ? { pcap: o.pcap } : {}),
    ...(o.wrap ? { wrap: o.wrap } : {}),
  });
  const b = sim.add({
    ipv4: '10.0.0.2',
    config,
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.wrap ? { wrap: o.wrap } : {}),
  });
  const l = a.tcp.listen(80, 4);
  if (typeof l === 'number')
    return { ok: false, why: 'listen failed', virtualMs: 0, retransmits: 0 };
  const client = b.tcp.connect(parseIPv4('10.0.0.1')!, 80);
  if (typeof client === 'number')
    return { ok: false, why: 'connect failed', virtualMs: 0, retransmits: 0 };
  const up = pattern(o.bytes, o.seed * 2 + 1);
  const down = pattern(o.bytes, o.seed * 2 + 2);
  let server: TcpConnection | undefined;
  const side = (data: Uint8Array) => ({
    data,
    sent: 0,
    got: new Uint8Array(data.length),
    have: 0,
    closed: false,
  });
  const c2s = side(up);
  const s2c = side(down);
  let failure = '';
  const pump = (writer: TcpConnection, reader: TcpConnection, dir: ReturnType<typeof side>) => {
    const room = dir.got.length - dir.have;
    if (reader.readable > room) failure = 'received more bytes than were sent';
    dir.have += reader.read(dir.got, dir.have, room);
    if (dir.sent < dir.data.length) dir.sent += writer.write(dir.data, dir.sent);
    else if (!dir.closed) {
      writer.shutdown();
      dir.closed = true;
    }
  };
  const done = sim.runUntil(() => {
    if (client.error !== 0) failure = `client error ${client.error}`;
    if (server?.error) failure = `server error ${server.error}`;
    if (failure !== '') return true;
    server ??= l.accept();
    if (server === undefined) return false;
    pump(client, server, c2s);
    pump(server, client, s2c);
    return (
      c2s.have === up.length &&
      s2c.have === down.length &&
      client.eof &&
      server.eof &&
      a.tcp.connectionCount + b.tcp.connectionCount === 0
    );
  }, o.limitMs ?? 3_600_000);
  const retransmits = a.stats.tcpRetransmits + b.stats.tcpRetransmits;
  const result = (ok: boolean, why: string) => ({
    ok,
    why: `${why} (seed ${o.seed}, t=${sim.now} ms)`,
    virtualMs: sim.now,
    retransmits,
    offloadSegments: a.stats.tcpOffloadSegments + b.stats.tcpOffloadSegments,
    largeSegmentsIn: a.stats.tcpLargeSegmentsIn + b.stats.tcpLargeSegmentsIn,
    framesInParts: a.stats.txFramesInParts + b.stats.txFramesInParts,
  });
  if (sim.errors.length > 0) return result(false, `stack error: ${String(sim.errors[0])}`);
  if (failure !== '') return result(false, failure);
  if (!done)
    return result(
      false,
      `stalled: up ${c2s.have}/${up.length}, down ${s2c.have}/${down.length}, client ${client.stateName}, server ${server?.stateName}, connections ${a.tcp.connectionCount}+${b.tcp.connectionCount}`,
    );
  const firstDiff = (x: Uint8Array, y: Uint8Array) => x.findIndex((v, i) => v !== y[i]);
  if (Buffer.compare(c2s.got, up) !== 0)
    return result(false, `client-to-server bytes differ from offset ${firstDiff(c2s.got, up)}`);
  if (Buffer.compare(s2c.got, down) !== 0)
    return result(false, `server-to-client bytes differ from offset ${firstDiff(s2c.got, down)}`);
  return result(true, 'ok');
}
