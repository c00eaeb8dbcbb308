import { createHash } from 'node:crypto';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { bytes, ok } from '@demi/core/conformance';
import { openCatpowder, peerRun, peerStart } from '/work/main/packages/catpowder/test/stack-env.ts';
import { createPair } from '/work/main/tools/netns/index.mjs';

const PEER = '/work/main/packages/catpowder/test/peers/kernel-peer.mjs';
const pair = createPair();
const mode = (process.argv[2] ?? 'af_packet') as 'af_packet';
const drop = Number(process.argv[3] ?? 0);
const size = Number(process.argv[4] ?? 100) * 1024 * 1024;
const dir = (process.argv[5] ?? 'both') as 'both';
const { libos, device, fault } = openCatpowder(
  pair,
  { mode },
  drop ? { fault: { seed: 7, dropPct: drop, direction: dir } } : {},
);
const dump = await peerStart(
  pair,
  'tcpdump',
  ['-i', pair.peerIf, '-s', '128', '-w', '/tmp/down.pcap', 'tcp'],
  /listening/,
);
const src = await peerStart(
  pair,
  process.execPath,
  [PEER, 'source-server', pair.peerIp, '30001', String(size), '5'],
  /listening/,
);
const qd = libos.socket(AF_INET, SOCK_STREAM);
await ok(libos, libos.connect(qd, { address: pair.peerIp, port: 30001 }), Opcode.CONNECT);
const t0 = performance.now();
let got = 0;
const timer = setInterval(async () => {
  if (performance.now() - t0 > 9000) {
    dump.stop();
    process.exit(0);
  }
  const ss = await peerRun(pair, 'ss', ['-tin', 'sport = :30001']);
  console.log(
    (performance.now() - t0).toFixed(0),
    'ms got',
    got,
    JSON.stringify(fault?.stats),
    ss.stdout.replace(/\s+/g, ' ').slice(0, 600),
  );
}, 2000);
for (;;) {
  const b = bytes((await ok(libos, libos.pop(qd), Opcode.POP)).sga);
  if (b.byteLength === 0) break;
  got += b.byteLength;
}
clearInterval(timer);
const ms = performance.now() - t0;
console.log(
  'download',
  mode,
  drop,
  ((size * 8) / ms / 1000).toFixed(0),
  'Mbit/s',
  ms.toFixed(0),
  'ms',
  got,
);
console.log(libos.stack.stats);
libos.close(qd);
src.stop();
await libos.shutdown();
pair.down();
