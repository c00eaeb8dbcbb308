import { createHash } from 'node:crypto';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { bytes, ok, pattern, pushAll } from '@demi/core/conformance';
import { openCatpowder, peerStart } from '/work/main/packages/catpowder/test/stack-env.ts';
import { createPair } from '/work/main/tools/netns/index.mjs';

const PEER = '/work/main/packages/catpowder/test/peers/kernel-peer.mjs';
const pair = createPair();
const mode = (process.argv[2] ?? 'af_packet') as 'af_packet';
const drop = Number(process.argv[3] ?? 0);
const size = Number(process.argv[4] ?? 100) * 1024 * 1024;
const { libos, device, fault } = openCatpowder(
  pair,
  { mode },
  drop ? { fault: { seed: 7, dropPct: drop } } : {},
);
const data = pattern(size, 5);
// upload
const sink = await peerStart(
  pair,
  process.execPath,
  [PEER, 'sink-server', pair.peerIp, '30000'],
  /listening/,
);
let qd = libos.socket(AF_INET, SOCK_STREAM);
await ok(libos, libos.connect(qd, { address: pair.peerIp, port: 30000 }), Opcode.CONNECT);
let t0 = performance.now();
await pushAll(libos, qd, data);
await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
while (!sink.output().includes('sha256')) await new Promise((r) => setTimeout(r, 5));
let ms = performance.now() - t0;
console.log(
  'upload',
  mode,
  drop,
  ((size * 8) / ms / 1000).toFixed(0),
  'Mbit/s',
  ms.toFixed(0),
  'ms',
  sink.output().trim().split('\n').pop(),
);
sink.stop();
// download
const src = await peerStart(
  pair,
  process.execPath,
  [PEER, 'source-server', pair.peerIp, '30001', String(size), '5'],
  /listening/,
);
qd = libos.socket(AF_INET, SOCK_STREAM);
await ok(libos, libos.connect(qd, { address: pair.peerIp, port: 30001 }), Opcode.CONNECT);
t0 = performance.now();
const h = createHash('sha256');
let got = 0;
for (;;) {
  const b = bytes((await ok(libos, libos.pop(qd), Opcode.POP)).sga);
  if (b.byteLength === 0) break;
  h.update(b);
  got += b.byteLength;
}
ms = performance.now() - t0;
console.log(
  'download',
  mode,
  drop,
  ((size * 8) / ms / 1000).toFixed(0),
  'Mbit/s',
  ms.toFixed(0),
  'ms',
  got,
  h.digest('hex') === createHash('sha256').update(data).digest('hex'),
);
libos.close(qd);
src.stop();
console.log(device.stats(), fault?.stats, libos.stack.stats);
await libos.shutdown();
pair.down();
