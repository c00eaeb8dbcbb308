// Bulk TCP between the stack and the kernel, byte-exact (sha256 at both ends),
// clean and through the fault-injecting device dropping 1% and 5% of frames in
// each direction. Throughput is printed, never asserted.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AF_INET, type LibOS, Opcode, SOCK_STREAM } from '@demi/core';
import { bytes, ok, pattern, pushAll } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import type { FaultOptions } from '@demi/inetstack';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import type { RawDeviceOptions } from '../src/index.js';
import { MODE_CASES } from './helpers.js';
import { type Catpowder, openCatpowder, peerStart } from './stack-env.js';

const PEER = fileURLToPath(new URL('./peers/kernel-peer.mjs', import.meta.url));
const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Case {
  title: string;
  mode: (typeof MODE_CASES)[number];
  /** Device options beyond the mode's. */
  device?: RawDeviceOptions;
  /** Whether sending must go through segmentation offload (large frames the kernel cuts). */
  offload: boolean;
  /** The kernel peer keeps its own TSO/GSO and checksum offloads: 64 KiB frames come to us. */
  peerOffloads?: boolean;
  fault?: FaultOptions;
  /** Bytes from the stack to the kernel, and from the kernel to the stack. */
  up: number;
  down: number;
}

const afPacket = MODE_CASES[0]!;
// Loss recovery costs the same whatever moves the frames, so the lossy runs use
// AF_PACKET only. Every case moves 100 MiB each way; at 5% loss the stack's
// sending side recovers by SACK and loss probes, without timeouts (~2 s).
const CASES: Case[] = [
  ...MODE_CASES.map((mode) => ({
    title: `${mode.title}, no loss`,
    mode,
    offload: mode === afPacket,
    up: 100 * MiB,
    down: 100 * MiB,
  })),
  {
    title: 'af_packet without segmentation offload, no loss',
    mode: afPacket,
    device: { segmentationOffload: false },
    offload: false,
    up: 100 * MiB,
    down: 100 * MiB,
  },
  {
    title: 'af_packet, 1% loss each way',
    mode: afPacket,
    offload: true,
    fault: { seed: 101, dropPct: 1 },
    up: 100 * MiB,
    down: 100 * MiB,
  },
  {
    title: 'af_packet, 5% loss each way',
    mode: afPacket,
    offload: true,
    fault: { seed: 105, dropPct: 5 },
    up: 100 * MiB,
    down: 100 * MiB,
  },
  {
    title: 'af_packet taking 64 KiB frames from a kernel peer with TSO on, no loss',
    mode: afPacket,
    device: { largeReceive: true },
    peerOffloads: true,
    offload: true,
    up: 100 * MiB,
    down: 100 * MiB,
  },
  {
    title: 'af_packet taking 64 KiB frames from a kernel peer with TSO on, 5% loss each way',
    mode: afPacket,
    device: { largeReceive: true },
    peerOffloads: true,
    offload: true,
    fault: { seed: 107, dropPct: 5 },
    up: 100 * MiB,
    down: 100 * MiB,
  },
  {
    title: 'af_packet without segmentation offload, 5% loss each way',
    mode: afPacket,
    device: { segmentationOffload: false },
    offload: false,
    fault: { seed: 106, dropPct: 5 },
    up: 100 * MiB,
    down: 100 * MiB,
  },
];

async function upload(
  cp: Catpowder,
  peerIp: string,
  port: number,
  data: Uint8Array,
  pair: Parameters<typeof peerStart>[0],
) {
  const { libos } = cp;
  const sink = await peerStart(
    pair,
    process.execPath,
    [PEER, 'sink-server', peerIp, String(port)],
    /listening/,
  );
  try {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await ok(libos, libos.connect(qd, { address: peerIp, port }), Opcode.CONNECT);
    const t0 = performance.now();
    await pushAll(libos, qd, data);
    const closed = await libos.wait(libos.asyncClose(qd), 120_000);
    expect(closed.opcode).toBe(Opcode.CLOSE);
    const deadline = Date.now() + 120_000;
    while (!/sha256|error/.test(sink.output()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    return {
      result: JSON.parse(
        sink
          .output()
          .split('\n')
          .find((l) => l.startsWith('{'))!,
      ),
      ms,
    };
  } finally {
    sink.stop();
  }
}

async function download(
  libos: LibOS,
  peerIp: string,
  port: number,
  size: number,
  seed: number,
  pair: Parameters<typeof peerStart>[0],
) {
  const source = await peerStart(
    pair,
    process.execPath,
    [PEER, 'source-server', peerIp, String(port), String(size), String(seed)],
    /listening/,
  );
  try {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await ok(libos, libos.connect(qd, { address: peerIp, port }), Opcode.CONNECT);
    const t0 = performance.now();
    const hash = createHash('sha256');
    let got = 0;
    for (;;) {
      const r = await libos.wait(libos.pop(qd), 120_000);
      expect(r.opcode, `pop failed with ret ${r.ret} after ${got} bytes`).toBe(Opcode.POP);
      const b = bytes(r.sga);
      if (b.byteLength === 0) break;
      hash.update(b);
      got += b.byteLength;
    }
    const ms = performance.now() - t0;
    libos.close(qd);
    return { got, sha256: hash.digest('hex'), ms };
  } finally {
    source.stop();
  }
}

const mbps = (size: number, ms: number) => ((size * 8) / ms / 1000).toFixed(0);

for (const c of CASES) {
  describePrivileged(
    `bulk TCP against the kernel (${c.title})`,
    () => missingNetnsSupport() ?? c.mode.missing(),
    () => {
      const net = useNetnsPair(c.peerOffloads ? { offloads: true } : {});
      let cp: Catpowder;
      beforeAll(() => {
        cp = openCatpowder(
          net.pair,
          { ...c.mode.options, ...c.device },
          c.fault ? { fault: c.fault } : {},
        );
      });
      afterAll(async () => {
        await cp?.libos.shutdown();
      });

      it(`${c.up / MiB} MiB from the stack to the kernel arrive byte-exact`, async () => {
        const data = pattern(c.up, 31);
        const { result, ms } = await upload(cp, net.pair.peerIp, 31000, data, net.pair);
        console.info(
          `[catpowder ${c.title}] stack -> kernel: ${c.up / MiB} MiB in ${ms.toFixed(0)} ms = ${mbps(c.up, ms)} Mbit/s${cp.fault ? ` (${cp.fault.stats.dropped} frames dropped)` : ''}`,
        );
        expect(result.bytes).toBe(c.up);
        expect(result.sha256).toBe(sha256(data));
        // The path under test was the one taken: large frames the kernel cut, or none.
        const offloaded = cp.device.stats().txOffloadFrames;
        if (c.offload) expect(offloaded).toBeGreaterThan(0);
        else expect(offloaded).toBe(0);
        expect(cp.libos.stack.stats.tcpOffloadSegments > 0).toBe(c.offload);
        // The data went to the device in parts (headers, then the payload from the send
        // buffer), copied once into its transmit slots: behind the fault injector too.
        expect(cp.device.stats().txFramesInParts).toBeGreaterThan(c.up / 65536);
      });

      it(`${c.down / MiB} MiB from the kernel to the stack arrive byte-exact`, async () => {
        const r = await download(cp.libos, net.pair.peerIp, 31001, c.down, 32, net.pair);
        console.info(
          `[catpowder ${c.title}] kernel -> stack: ${c.down / MiB} MiB in ${r.ms.toFixed(0)} ms = ${mbps(c.down, r.ms)} Mbit/s${cp.fault ? ` (${cp.fault.stats.dropped} frames dropped)` : ''}`,
        );
        expect(r.got).toBe(c.down);
        expect(r.sha256).toBe(sha256(pattern(c.down, 32)));
        // A peer with TSO on sends segments far above the MSS, taken whole.
        if (c.peerOffloads) expect(cp.libos.stack.stats.tcpLargeSegmentsIn).toBeGreaterThan(0);
        if (c.fault) expect(cp.fault!.stats.dropped).toBeGreaterThan(0);
      });
    },
  );
}
