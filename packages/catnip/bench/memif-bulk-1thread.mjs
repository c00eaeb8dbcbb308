#!/usr/bin/env node
// Bulk TCP between two @demi/inetstack stacks joined by a real net_memif link
// (two DPDK ports in this process), driven from one thread: what the stack, the
// device layer and DPDK cost per byte, without two processes competing for
// cores. Compare settings against each other in one session; CPU µs per MiB is
// steadier than MB/s on a shared machine.
//   node bench/memif-bulk-1thread.mjs [--mib 256] [--mtu 1500] [--trusted] [--bsize 2048] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CatnipDevice } from '@demi/catnip';
import { InetStack, systemClock } from '@demi/inetstack';

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    mtu: { type: 'string', default: '1500' },
    trusted: { type: 'boolean', default: false },
    bsize: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
const mtu = Number(args.mtu);
const bytes = Number(args.mib) << 20;
const dir = mkdtempSync(join(tmpdir(), 'demi-catnip-1thread-'));
const socket = join(dir, 'memif.sock');
const extra = args.bsize === undefined ? '' : `,bsize=${args.bsize}`;
const vdevs = ['server', 'client'].map(
  (role, i) => `net_memif${i},role=${role},id=0,socket=${socket},socket-abstract=no${extra}`,
);
const common = { vdevs, mtu, trustedLink: args.trusted };
const da = new CatnipDevice({ ...common, portId: 0 });
const db = new CatnipDevice({ ...common, portId: 1 });
await Promise.all([da.waitForLink(), db.waitForLink()]);

const fmt = (mac) => Array.from(mac, (x) => x.toString(16).padStart(2, '0')).join(':');
const arp = { table: { [fmt(db.mac)]: '10.0.0.2', [fmt(da.mac)]: '10.0.0.1' } };
const stack = (device, ipv4) =>
  new InetStack({ device, clock: systemClock, config: { ipv4, arp, mtu } });
const a = stack(da, '10.0.0.1');
const b = stack(db, '10.0.0.2');
const listener = a.tcp.listen(80, 4);
const client = b.tcp.connect(0x0a000001, 80);
let server;
while (server === undefined || client.state !== 4) {
  b.poll();
  a.poll();
  server ??= listener.accept();
}

const chunk = new Uint8Array(64 * 1024).fill(0x5a);
const sink = new Uint8Array(1 << 20);
const rates = [];
const cpuPerMiB = [];
for (let round = 0; round < Number(args.rounds); round++) {
  let sent = 0;
  let got = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (got < bytes) {
    if (sent < bytes) sent += client.write(chunk, 0, Math.min(chunk.length, bytes - sent));
    b.poll();
    a.poll();
    got += server.read(sink);
  }
  rates.push((bytes / ((performance.now() - start) / 1000) / 1e6).toFixed(0));
  // CPU time is what a busy machine disturbs least: the throughput one core could reach.
  const cpu = process.cpuUsage(cpu0);
  cpuPerMiB.push(((cpu.user + cpu.system) / (bytes / 2 ** 20)).toFixed(0));
}
console.log(
  JSON.stringify({
    mtu,
    trusted: da.port.trustedLink,
    bsize: args.bsize ?? 'default',
    MBps: rates,
    cpuUsPerMiB: cpuPerMiB,
    retransmits: b.stats.tcpRetransmits,
    rxOversize: da.stats().rxOversize,
  }),
);
a.close();
b.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
