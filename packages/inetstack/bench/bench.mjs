#!/usr/bin/env node
// In-process benchmarks of the user-level stack: two stacks joined by an in-memory
// link on one thread. Bulk TCP throughput and small-segment ping-pong round trips.
//   node bench/bench.mjs [--bulk MiB] [--pingpong N] [--size B] [--mtu N] [--cc cubic|newreno|none] [--offload]
import { InetStack, MemoryLink, systemClock } from '@demi/inetstack';

function pair({ mtu = 1500, cc = 'cubic', offload = false, tso = false, buffer = 1 << 20 } = {}) {
  // With tso: segments of up to 64 KiB cross the link whole, as between a GSO sender and a GRO receiver.
  const [da, db] = MemoryLink.pair({
    mtu,
    offloads: { rxChecksum: offload, txChecksum: false, tso: tso ? 65536 - 14 : 0 },
    deliverLarge: tso,
    queueLimit: 1 << 16,
  });
  const tcp = { congestionControl: cc, receiveBuffer: buffer, sendBuffer: buffer };
  const arp = { table: { [fmt(db.mac)]: '10.0.0.2', [fmt(da.mac)]: '10.0.0.1' } };
  const a = new InetStack({
    device: da,
    clock: systemClock,
    config: { ipv4: '10.0.0.1', tcp, arp, checksumOffload: { tcp: offload } },
  });
  const b = new InetStack({
    device: db,
    clock: systemClock,
    config: { ipv4: '10.0.0.2', tcp, arp, checksumOffload: { tcp: offload } },
  });
  const l = a.tcp.listen(80, 4);
  const client = b.tcp.connect(0x0a000001, 80);
  let server;
  while (server === undefined || client.state !== 4) {
    b.poll();
    a.poll();
    server ??= l.accept();
  }
  return { a, b, client, server };
}

function fmt(mac) {
  return Array.from(mac, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Sends `bytes` from one stack to the other; returns Gbit/s. */
export function bulk(bytes, options = {}) {
  const { a, b, client, server } = pair(options);
  const chunk = new Uint8Array(256 * 1024).fill(0x5a);
  const sink = new Uint8Array(1 << 20);
  let sent = 0;
  let got = 0;
  const start = performance.now();
  while (got < bytes) {
    if (sent < bytes) sent += client.write(chunk, 0, Math.min(chunk.length, bytes - sent));
    b.flush();
    a.poll();
    got += server.read(sink);
    a.flush();
    b.poll();
  }
  const seconds = (performance.now() - start) / 1000;
  a.close();
  b.close();
  return {
    gbps: (bytes * 8) / seconds / 1e9,
    seconds,
    retransmits: a.stats.tcpRetransmits + b.stats.tcpRetransmits,
    segments: a.stats.tcpIn,
    badChecksums: a.stats.rxBadChecksum,
  };
}

/** Ping-pong of `size`-byte messages; returns per-round-trip nanoseconds. */
export function pingPong(iterations, size, warmup = 0, options = {}) {
  const { a, b, client, server } = pair(options);
  const msg = new Uint8Array(size).fill(1);
  const buf = new Uint8Array(Math.max(size, 65536));
  const samples = new Float64Array(iterations);
  for (let i = -warmup; i < iterations; i++) {
    const t0 = performance.now();
    client.write(msg);
    b.flush();
    let n = 0;
    while (n < size) {
      a.poll();
      n += server.read(buf, 0, size - n);
    }
    server.write(buf, 0, size);
    a.flush();
    n = 0;
    while (n < size) {
      b.poll();
      n += client.read(buf, 0, size - n);
    }
    if (i >= 0) samples[i] = (performance.now() - t0) * 1e6;
  }
  a.close();
  b.close();
  return Array.from(samples);
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mib = Number(arg('bulk', 256));
  const options = {
    mtu: Number(arg('mtu', 1500)),
    cc: arg('cc', 'cubic'),
    offload: process.argv.includes('--offload'),
    tso: process.argv.includes('--tso'),
  };
  bulk(16 << 20, options);
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(bulk(mib << 20, options));
  runs.sort((x, y) => x.gbps - y.gbps);
  console.log(
    `bulk ${mib} MiB, MTU ${options.mtu}, ${options.cc}${options.offload ? ', checksums offloaded' : ''}${options.tso ? ', 64 KiB segments' : ''}: median ${runs[1].gbps.toFixed(2)} Gbit/s (runs ${runs.map((r) => r.gbps.toFixed(2)).join(', ')})`,
  );
  const n = Number(arg('pingpong', 20000));
  const size = Number(arg('size', 64));
  const s = pingPong(n, size, 2000, options).sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))] / 1000;
  const total = s.reduce((x, y) => x + y, 0) / 1e9;
  console.log(
    `ping-pong ${size} B x ${n}: p50 ${q(0.5).toFixed(2)} us, p99 ${q(0.99).toFixed(2)} us, ${((2 * n) / total / 1000).toFixed(0)}k segments/s`,
  );
}
