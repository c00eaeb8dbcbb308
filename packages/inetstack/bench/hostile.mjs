#!/usr/bin/env node
// What hostile traffic costs the stack: each attack is fed as frames straight into
// one stack (in memory, virtual time for the protocol, wall time for CPU) and the
// table shows CPU per attack frame, frames the stack sent per attack frame, and
// the state it held at the end against the bound that holds it.
//   node --expose-gc bench/hostile.mjs [--n 20000]
import {
  emitEthernet,
  emitIpv4,
  emitTcp,
  emitUdp,
  InetStack,
  ManualClock,
  MemoryLink,
  parseIPv4,
  SeededRandom,
  TCP_ACK,
  TCP_SYN,
  TcpOptions,
} from '@demi/inetstack';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []),
);
const N = Number(args.n ?? 20_000);
const ME = parseIPv4('10.0.0.1');
const PEER = parseIPv4('10.0.0.2');

function setup(config = {}) {
  const link = new MemoryLink({ queueLimit: 1 << 20 });
  const dev = link.attach('02:00:00:00:00:01');
  const peer = link.attach('02:00:00:00:00:02');
  const clock = new ManualClock(1000);
  const stack = new InetStack({
    device: dev,
    clock,
    random: new SeededRandom(1),
    config: { ipv4: ME, prefixLength: 16, ...config },
  });
  return { stack, peer, clock };
}

function frame(src, ipFields, l4) {
  const f = new Uint8Array(14 + 20 + l4.length);
  emitEthernet(
    {
      dst: new Uint8Array([2, 0, 0, 0, 0, 1]),
      src: new Uint8Array([2, 0, 0, 0, 0, 2]),
      etherType: 0x0800,
    },
    f,
  );
  emitIpv4(
    {
      src,
      dst: ME,
      ttl: 64,
      ident: 1,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      ...ipFields,
      payloadLength: l4.length,
    },
    f,
    14,
  );
  f.set(l4, 34);
  return f;
}

function tcp(src, srcPort, seq, ack, flags, payload = new Uint8Array(0)) {
  const o = new TcpOptions();
  if (flags & TCP_SYN) o.mss = 1460;
  const l4 = new Uint8Array(60 + payload.length);
  const n = emitTcp(
    { srcPort, dstPort: 80, seq, ack, flags, window: 65535, options: o, payload },
    l4,
    0,
    src,
    ME,
  );
  return frame(src, { protocol: 6 }, l4.subarray(0, n));
}

function udp(src, srcPort, dstPort, size) {
  const l4 = new Uint8Array(8 + size);
  emitUdp({ srcPort, dstPort, payload: new Uint8Array(size) }, l4, 0, src, ME);
  return frame(src, { protocol: 17 }, l4);
}

/** Feeds frames one poll each; returns CPU µs and frames out per frame and the heap growth. */
function feed(env, frames, advanceMs = 0) {
  globalThis.gc?.();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const heap0 = mem();
  let out = 0;
  const t0 = performance.now();
  for (const f of frames) {
    env.peer.send(f);
    env.stack.poll();
    out += env.peer.receive(() => {});
    if (advanceMs) env.clock.advance(advanceMs);
  }
  const us = ((performance.now() - t0) * 1000) / frames.length;
  globalThis.gc?.();
  return { us, out: out / frames.length, heap: mem() - heap0 };
}

const rng = new SeededRandom(9);
const rows = [];
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

for (const cookies of [true, false]) {
  const env = setup({ tcp: { synCookies: cookies } });
  env.stack.tcp.listen(80, 128);
  const frames = Array.from({ length: N }, (_, i) =>
    tcp(
      parseIPv4('10.0.0.0') + 3 + (rng.nextU32() % 65000),
      1024 + (i % 60000),
      rng.nextU32(),
      0,
      TCP_SYN,
    ),
  );
  const r = feed(env, frames);
  rows.push([
    `SYN flood, on-subnet sources, cookies ${cookies ? 'on' : 'off'}`,
    r.us,
    r.out,
    `${env.stack.tcp.connectionCount} half-open, memory +${kib(r.heap)}`,
    `synBacklog ${env.stack.config.tcp.synBacklog}`,
  ]);
}
{
  const env = setup();
  env.stack.tcp.listen(80, 128);
  const frames = Array.from({ length: N }, (_, i) =>
    tcp(rng.nextU32() >>> 0, 1024 + (i % 60000), rng.nextU32(), 0, TCP_SYN),
  );
  const r = feed(env, frames);
  const s = env.stack.stats;
  rows.push([
    'SYN flood, random sources (no gateway)',
    r.us,
    r.out,
    `${env.stack.tcp.connectionCount} half-open, ${s.arpOut} ARP, ${env.stack.arp.pendingCount} resolving, memory +${kib(r.heap)}`,
    'no route off-subnet; martians dropped',
  ]);
}
{
  const env = setup();
  const frames = Array.from({ length: N }, (_, i) =>
    frame(PEER, { protocol: 17, ident: i & 0xffff, moreFragments: true }, new Uint8Array(1480)),
  );
  let peak = 0;
  const r = feed(env, frames);
  peak = env.stack.ipv4.reassembly.bytesHeld;
  rows.push([
    'first fragments, 1480 B, never completed',
    r.us,
    r.out,
    `${kib(peak)} held, ${env.stack.stats.reassemblyEvictions} evicted`,
    `reassemblyMaxBytes ${kib(env.stack.config.ip.reassemblyMaxBytes)}`,
  ]);
}
{
  const env = setup({ arp: { table: { '02:00:00:00:00:02': '10.0.0.2' } } });
  const l = env.stack.tcp.listen(80, 8);
  env.peer.send(tcp(PEER, 5000, 1000, 0, TCP_SYN));
  env.stack.poll();
  let iss = 0;
  env.peer.receive((f) => {
    iss = new DataView(f.buffer, f.byteOffset).getUint32(14 + 20 + 4);
  });
  env.peer.send(tcp(PEER, 5000, 1001, (iss + 1) >>> 0, TCP_ACK));
  env.stack.poll();
  const c = l.accept();
  const frames = Array.from({ length: N }, () =>
    tcp(PEER, 5000, 1001, (iss + 1 - 2 ** 30) >>> 0, TCP_ACK, new Uint8Array(100)),
  );
  const r = feed(env, frames);
  rows.push([
    'blind data injection, ACK 2^30 old',
    r.us,
    r.out,
    `${c.readable} bytes accepted`,
    'RFC 5961 5.2: dropped, one ACK each (no amplification)',
  ]);
}
{
  const env = setup({ arp: { table: { '02:00:00:00:00:02': '10.0.0.2' } } });
  const frames = Array.from({ length: N }, (_, i) => udp(PEER, 1000 + (i % 50000), 9, 8));
  const r = feed(env, frames, 0.1);
  rows.push([
    `UDP to a closed port, one source, ${N} over ${(N * 0.1) / 1000} s`,
    r.us,
    r.out,
    `${env.stack.stats.icmpOut} ICMP errors`,
    '6 burst + 1/s per destination, 1000/s overall',
  ]);
}

console.log(
  `${N} attack frames each (node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`,
);
console.log('| attack | CPU per frame | frames sent per frame | state at the end | bound |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, us, out, state, bound] of rows)
  console.log(`| ${name} | ${us.toFixed(1)} µs | ${out.toFixed(3)} | ${state} | ${bound} |`);
