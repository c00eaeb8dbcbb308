import { expect } from 'vitest';
import type { MemoryLinkOptions } from '../../src/device/memory-link.js';
import type { StackConfigInput, TcpConfig } from '../../src/stack/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import type { TcpListener } from '../../src/tcp/listener.js';
import { TCP_ACK, TCP_SYN, type TcpRepr } from '../../src/wire/index.js';
import { Harness, ip, PEER_IP, PEER_MAC, type SegmentSpec, tcpSegment } from './harness.js';

export const PEER_PORT = 5000;
export const PORT = 80;
export const PEER_ISS = 1000;

type TcpOverrides = Partial<Omit<TcpConfig, 'keepalive' | 'linger'>> & {
  keepalive?: Partial<TcpConfig['keepalive']>;
  linger?: Partial<TcpConfig['linger']>;
};

/**
 * A stack at 10.0.0.1 with the test playing 10.0.0.2:5000. Options are off by
 * default (no timestamps, SACK or window scaling) so segments are plain;
 * tests that are about an option turn it on.
 */
export class TcpHarness extends Harness {
  listener: TcpListener | undefined;
  /** Events the connection reported, in order. */
  readonly events: string[] = [];

  constructor(
    tcp: TcpOverrides = {},
    config: Partial<StackConfigInput> = {},
    link: MemoryLinkOptions = {},
  ) {
    super(
      {
        arp: { table: { [PEER_MAC]: PEER_IP } },
        ...config,
        tcp: { timestamps: false, sack: false, windowScaling: false, ...tcp },
      },
      link,
    );
  }

  /** Sends a segment from the peer (ports default to 5000 -> 80). */
  send(
    spec: Omit<SegmentSpec, 'srcPort' | 'dstPort'> & { srcPort?: number; dstPort?: number },
  ): void {
    this.inject(tcpSegment({ srcPort: PEER_PORT, dstPort: PORT, ...spec }));
  }

  /** Every TCP segment sent since the last call. */
  out(): TcpRepr[] {
    return this.sent().map((s) => {
      if (s.tcp === undefined) throw new Error(`expected TCP, got ethertype ${s.etherType}`);
      expect(s.tcpChecksumOk).toBe(true);
      return s.tcp;
    });
  }

  outOne(): TcpRepr {
    const o = this.out();
    if (o.length !== 1)
      throw new Error(`expected one segment, got ${o.length}: ${o.map(show).join('; ')}`);
    return o[0]!;
  }

  listen(backlog = 8): TcpListener {
    const l = this.stack.tcp.listen(PORT, backlog);
    if (typeof l === 'number') throw new Error(`listen: errno ${l}`);
    this.listener = l;
    return l;
  }

  watch(c: TcpConnection): TcpConnection {
    c.events = {
      onEstablished: () => this.events.push('established'),
      onReadable: () => this.events.push('readable'),
      onWritable: () => this.events.push('writable'),
      onFinAcked: () => this.events.push('finacked'),
      onError: (e) => this.events.push(`error:${e}`),
      onReleased: () => this.events.push('released'),
    };
    return c;
  }

  /** Passive open completed by the peer's ACK; returns the accepted connection and our ISS. */
  accept(syn: Partial<SegmentSpec> = {}, window = 65535): { c: TcpConnection; iss: number } {
    const l = this.listener ?? this.listen();
    this.send({ seq: PEER_ISS, flags: TCP_SYN, window, mss: 1460, ...syn });
    const synAck = this.outOne();
    expect(synAck.flags).toBe(TCP_SYN | TCP_ACK);
    const iss = synAck.seq;
    this.send({
      seq: PEER_ISS + 1,
      ack: iss + 1,
      flags: TCP_ACK,
      window,
      ...(syn.ts ? { ts: [syn.ts[0] + 1, synAck.options.tsVal] as [number, number] } : {}),
    });
    const c = l.accept();
    if (c === undefined) throw new Error('no connection to accept');
    this.watch(c);
    this.nothing();
    return { c, iss };
  }

  /** Active open answered by the peer's SYN-ACK; returns the connection and our ISS. */
  connect(synAck: Partial<SegmentSpec> = {}): { c: TcpConnection; iss: number } {
    const c = this.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT);
    if (typeof c === 'number') throw new Error(`connect: errno ${c}`);
    this.watch(c);
    this.poll();
    const syn = this.outOne();
    expect(syn.flags).toBe(TCP_SYN);
    const iss = syn.seq;
    this.send({
      srcPort: PEER_PORT,
      dstPort: PORT,
      seq: PEER_ISS,
      ack: iss + 1,
      flags: TCP_SYN | TCP_ACK,
      mss: 1460,
      window: 65535,
      ...synAck,
    });
    const ack = this.outOne();
    expect(ack.flags).toBe(TCP_ACK);
    expect(ack.ack).toBe(PEER_ISS + 1);
    return { c, iss };
  }

  /** Writes into the connection and lets the stack send. */
  write(c: TcpConnection, data: Uint8Array): number {
    const n = c.write(data);
    this.stack.flush();
    return n;
  }
}

export function show(t: TcpRepr): string {
  const f: string[] = [];
  if (t.flags & 2) f.push('S');
  if (t.flags & 1) f.push('F');
  if (t.flags & 4) f.push('R');
  if (t.flags & 8) f.push('P');
  if (t.flags & 16) f.push('.');
  return `[${f.join('')}] seq=${t.seq} ack=${t.ack} win=${t.window} len=${t.payload.length}`;
}

export function bytes(n: number, seed = 1): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}
