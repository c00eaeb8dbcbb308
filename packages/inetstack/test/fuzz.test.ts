import { describe, expect, it } from 'vitest';
import { Simulator } from '../src/sim/simulator.js';
import type { TcpConnection } from '../src/tcp/connection.js';
import { TcpState } from '../src/tcp/state.js';
import { parseIPv4, parseMac } from '../src/util/addr.js';
import { SeededRandom } from '../src/util/random.js';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  emitArp,
  emitEthernet,
  emitIcmp,
  emitIpv4,
  emitTcp,
  emitUdp,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Ipv4View,
  internetChecksum,
  pseudoHeaderSum,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TcpOptions,
} from '../src/wire/index.js';

/** Frames to inject; FUZZ_FRAMES overrides (the default is the full million). */
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

const A_IP = parseIPv4('10.0.0.1')!;
const A_MAC = parseMac('02:00:00:00:00:01')!;
const X_IP = parseIPv4('10.0.0.66')!;
const X_MAC = parseMac('02:00:00:00:00:42')!;
const BCAST = new Uint8Array(6).fill(0xff);

function frame(dst: Uint8Array, type: number, body: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + body.length);
  emitEthernet({ dst, src: X_MAC, etherType: type }, f);
  f.set(body, 14);
  return f;
}

function ipPacket(
  protocol: number,
  l4: Uint8Array,
  extra: Partial<{ mf: boolean; off: number; ident: number; dst: number }> = {},
): Uint8Array {
  const p = new Uint8Array(20 + l4.length);
  emitIpv4(
    {
      src: X_IP,
      dst: extra.dst ?? A_IP,
      protocol,
      ttl: 64,
      ident: extra.ident ?? 1,
      dontFragment: false,
      moreFragments: extra.mf ?? false,
      fragmentOffset: extra.off ?? 0,
      payloadLength: l4.length,
    },
    p,
  );
  p.set(l4, 20);
  return frame(A_MAC, ETHERTYPE_IPV4, p);
}

function tcp(
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
  opts = new TcpOptions(),
): Uint8Array {
  const l4 = new Uint8Array(60 + payload.length);
  const n = emitTcp(
    { srcPort, dstPort, seq, ack, flags, window: 65535, options: opts, payload },
    l4,
    0,
    X_IP,
    A_IP,
  );
  return ipPacket(IPPROTO_TCP, l4.subarray(0, n));
}

/** Valid frames of every kind the stack parses, to be mutated. */
function templates(r: SeededRandom): Uint8Array[] {
  const arp = (op: number) => {
    const b = new Uint8Array(28);
    emitArp(
      {
        operation: op,
        senderMac: X_MAC,
        senderIp: X_IP,
        targetMac: op === ARP_OP_REPLY ? A_MAC : new Uint8Array(6),
        targetIp: A_IP,
      },
      b,
    );
    return frame(op === ARP_OP_REPLY ? A_MAC : BCAST, ETHERTYPE_ARP, b);
  };
  const udp = (port: number, size: number) => {
    const l4 = new Uint8Array(8 + size);
    emitUdp(
      { srcPort: 999, dstPort: port, payload: new Uint8Array(size).fill(7) },
      l4,
      0,
      X_IP,
      A_IP,
    );
    return ipPacket(IPPROTO_UDP, l4);
  };
  const icmp = (size: number) => {
    const l4 = new Uint8Array(8 + size);
    emitIcmp({ type: 8, code: 0, rest: 0x10001, payload: new Uint8Array(size).fill(1) }, l4);
    return ipPacket(IPPROTO_ICMP, l4);
  };
  const full = new TcpOptions();
  full.mss = 1460;
  full.windowScale = 7;
  full.sackPermitted = true;
  full.setTimestamp(1, 2);
  const sacks = new TcpOptions()
    .setTimestamp(5, 6)
    .addSack(100, 200)
    .addSack(300, 400)
    .addSack(1, 2);
  const big = new Uint8Array(20 + 8 + 64000);
  return [
    arp(ARP_OP_REQUEST),
    arp(ARP_OP_REPLY),
    icmp(56),
    icmp(1400),
    udp(7, 20),
    udp(9999, 20),
    ipPacket(IPPROTO_UDP, new Uint8Array(64), { mf: true, ident: 9 }),
    ipPacket(IPPROTO_UDP, new Uint8Array(64), { off: 64, ident: 9 }),
    tcp(40000, 80, 1000, 0, TCP_SYN, new Uint8Array(0), full),
    tcp(40001, 80, 1000, 77, TCP_ACK, new Uint8Array(100)),
    tcp(40002, 80, 5, 5, TCP_ACK | TCP_FIN, new Uint8Array(10), sacks),
    tcp(40003, 81, 5, 5, TCP_RST, new Uint8Array(0)),
    tcp(40004, 80, r.nextU32(), r.nextU32(), TCP_SYN | TCP_ACK, new Uint8Array(0), full),
    // TSO-sized (64 KB) frame, as a device with receive offloads can deliver.
    (() => {
      emitIpv4(
        {
          src: X_IP,
          dst: A_IP,
          protocol: IPPROTO_UDP,
          ttl: 64,
          ident: 3,
          dontFragment: true,
          moreFragments: false,
          fragmentOffset: 0,
          payloadLength: big.length - 20,
        },
        big,
      );
      return frame(A_MAC, ETHERTYPE_IPV4, big);
    })(),
  ];
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x0f, 0x10];

function mutate(r: SeededRandom, t: Uint8Array, scratch: Uint8Array): Uint8Array {
  let len = t.length;
  scratch.set(t);
  const edits = r.nextU32() % 5;
  for (let e = 0; e < edits; e++) {
    const at = 14 + (r.nextU32() % Math.max(1, Math.min(len - 14, 80)));
    switch (r.nextU32() % 6) {
      case 0:
        scratch[at] = scratch[at]! ^ (1 << (r.nextU32() & 7));
        break;
      case 1:
        scratch[at] = INTERESTING[r.nextU32() % INTERESTING.length]!;
        break;
      case 2:
        scratch[at] = r.nextU32() & 0xff;
        scratch[at + 1] = r.nextU32() & 0xff;
        break;
      case 3:
        len = 14 + (r.nextU32() % Math.max(1, len - 14));
        break;
      case 4: {
        const more = r.nextU32() % 64;
        for (let i = 0; i < more && len < scratch.length; i++) scratch[len++] = r.nextU32() & 0xff;
        break;
      }
      default:
        scratch[at] = 0;
    }
  }
  const f = scratch.subarray(0, len);
  if ((r.nextU32() & 1) === 0) fixChecksums(f);
  return f;
}

const ipView = new Ipv4View();
/** Recomputes checksums so mutated headers get past verification and reach deeper code. */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return;
  if (!ipView.wrap(f, 14, f.length - 14)) return;
  const h = ipView.headerLength;
  f[24] = 0;
  f[25] = 0;
  const c = internetChecksum(f, 14, h);
  f[24] = c >>> 8;
  f[25] = c & 0xff;
  if (ipView.isFragment) return;
  const off = 14 + h;
  const len = ipView.payloadLength;
  const proto = ipView.protocol;
  const at =
    proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : proto === IPPROTO_ICMP ? 2 : -1;
  if (at < 0 || len < at + 2) return;
  f[off + at] = 0;
  f[off + at + 1] = 0;
  const sum = internetChecksum(
    f,
    off,
    len,
    proto === IPPROTO_ICMP ? 0 : pseudoHeaderSum(ipView.src, ipView.dst, proto, len),
  );
  f[off + at] = sum >>> 8;
  f[off + at + 1] = sum & 0xff;
}

describe('fuzz', () => {
  it(`${FRAMES} random and mutated frames: nothing escapes, the healthy connection stays healthy`, () => {
    const r = new SeededRandom(SEED);
    // Devices accept 64 KB frames (as with receive offloads); the stacks keep a 1500-byte MTU.
    const sim = new Simulator({ seed: SEED, link: { mtu: 65535 } });
    // A and B know each other statically: ARP has no defence against spoofing (a mutated reply
    // naming B's address would redirect A's traffic on any stack), which is not what this tests.
    const a = sim.add({
      ipv4: '10.0.0.1',
      mac: '02:00:00:00:00:01',
      config: {
        mtu: 1500,
        ip: { reassemblyTimeoutMs: 2000 },
        arp: { table: { '02:00:00:00:00:02': '10.0.0.2' } },
      },
    });
    const b = sim.add({
      ipv4: '10.0.0.2',
      mac: '02:00:00:00:00:02',
      config: { mtu: 1500, arp: { table: { '02:00:00:00:00:01': '10.0.0.1' } } },
    });
    const attacker = sim.link.attach(X_MAC);
    const listener = a.tcp.listen(80, 64);
    const healthyL = a.tcp.listen(5001, 1);
    const udp = a.udp.bind(7);
    if (typeof listener === 'number' || typeof healthyL === 'number' || typeof udp === 'number')
      throw new Error('setup');
    const client = b.tcp.connect(A_IP, 5001) as TcpConnection;
    let server: TcpConnection | undefined;
    expect(
      sim.runUntil(
        () => (server ??= healthyL.accept()) !== undefined && client.state === TcpState.ESTABLISHED,
        10_000,
      ),
    ).toBe(true);

    // The healthy connection echoes a known stream the whole time.
    let sent = 0;
    let echoed = 0;
    const echoBuf = new Uint8Array(65536);
    const check = new Uint8Array(65536);
    const stream = (i: number) => (i * 7 + (i >>> 8)) & 0xff;
    const chunk = new Uint8Array(4096);
    let draining = false;
    const exchange = () => {
      if (!draining && sent - echoed < 32768) {
        for (let i = 0; i < chunk.length; i++) chunk[i] = stream(sent + i);
        sent += client.write(chunk);
      }
      const n = server!.read(echoBuf);
      if (n > 0) server!.write(echoBuf, 0, n);
      const m = client.read(check);
      for (let i = 0; i < m; i++)
        if (check[i] !== stream(echoed + i))
          throw new Error(`echo corrupted at byte ${echoed + i}`);
      echoed += m;
    };

    const ts = templates(r);
    const scratch = new Uint8Array(70_000);
    const random = new Uint8Array(1514);
    const started = performance.now();
    for (let i = 0; i < FRAMES; i++) {
      let f: Uint8Array;
      if (r.nextU32() % 10 === 0) {
        const len = 14 + (r.nextU32() % 1500);
        for (let k = 0; k < len; k++) random[k] = r.nextU32() & 0xff;
        random.set((r.nextU32() & 1) === 0 ? A_MAC : BCAST, 0);
        if ((r.nextU32() & 1) === 0) {
          random[12] = 0x08;
          random[13] = (r.nextU32() & 1) === 0 ? 0x00 : 0x06;
          if (random[13] === 0 && len > 34) {
            random[14] = 0x45;
            random.set([10, 0, 0, 1], 30);
          }
        }
        f = random.subarray(0, len);
        if ((r.nextU32() & 1) === 0) fixChecksums(f);
      } else {
        f = mutate(r, ts[r.nextU32() % ts.length]!, scratch);
      }
      attacker.send(f);
      if (i % 1000 === 999) {
        sim.settle();
        while (attacker.receive(() => {}) > 0);
        exchange();
        sim.clock.advance(1);
      }
    }
    sim.runFor(100);
    draining = true;
    sim.runUntil(() => {
      exchange();
      return echoed >= sent;
    }, 10_000);
    const elapsed = performance.now() - started;
    if (echoed < sent)
      console.info('stuck', {
        sent,
        echoed,
        cState: client.stateName,
        sState: server!.stateName,
        cUnacked: client.unacked,
        sUnacked: server!.unacked,
        sReadable: server!.readable,
        cReadable: client.readable,
        cWnd: client.sndWnd,
        sWnd: server!.sndWnd,
        cErr: client.error,
        t: sim.now,
        stats: a.stats,
      });
    console.info(
      `fuzz: ${FRAMES} frames in ${(elapsed / 1000).toFixed(1)} s (seed ${SEED}); healthy connection echoed ${echoed} bytes`,
    );

    expect(sim.errors).toEqual([]);
    expect(a.stats.internalErrors).toBe(0);
    expect(client.state).toBe(TcpState.ESTABLISHED);
    expect(server!.state).toBe(TcpState.ESTABLISHED);
    expect(echoed).toBe(sent);
    expect(echoed).toBeGreaterThan(0);
    // Memory stays bounded whatever arrived.
    expect(a.ipv4.reassembly.bytesHeld).toBeLessThanOrEqual(a.config.ip.reassemblyMaxBytes);
    expect(a.tcp.connectionCount).toBeLessThan(2000);
    expect(a.stats.rxFrames).toBeGreaterThanOrEqual(FRAMES);
  }, 300_000);
});
