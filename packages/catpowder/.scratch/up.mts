import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { ok, pattern, pushAll } from '@demi/core/conformance';
import { openCatpowder, peerStart } from '/work/main/packages/catpowder/test/stack-env.ts';
import { createPair } from '/work/main/tools/netns/index.mjs';

const PEER = '/work/main/packages/catpowder/test/peers/kernel-peer.mjs';
const pair = createPair();
const drop = Number(process.argv[2] ?? 5);
const size = Number(process.argv[3] ?? 2) * 1024 * 1024;
const { libos } = openCatpowder(pair, { mode: 'af_packet' }, { fault: { seed: 7, dropPct: drop } });
const dump = await peerStart(
  pair,
  'tcpdump',
  ['-i', pair.peerIf, '-s', '128', '-w', '/tmp/up.pcap', 'tcp'],
  /listening/,
);
const sink = await peerStart(
  pair,
  process.execPath,
  [PEER, 'sink-server', pair.peerIp, '30000'],
  /listening/,
);
const qd = libos.socket(AF_INET, SOCK_STREAM);
await ok(libos, libos.connect(qd, { address: pair.peerIp, port: 30000 }), Opcode.CONNECT);
const t0 = performance.now();
await pushAll(libos, qd, pattern(size, 5));
await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
while (!sink.output().includes('sha256')) await new Promise((r) => setTimeout(r, 5));
console.log('upload', drop, (performance.now() - t0).toFixed(0), 'ms');
console.log(libos.stack.stats);
await new Promise((r) => setTimeout(r, 300));
dump.stop();
sink.stop();
await libos.shutdown();
pair.down();
