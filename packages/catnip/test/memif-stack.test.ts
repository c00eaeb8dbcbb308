// Two catnip processes over net_memif, each with its own stack: this process
// is the memif server and the TCP client; a child (fixtures/memif-stack-peer.ts)
// is the memif client and a TCP echo server. The conformance suite's model has
// both LibOSes in one process, so its stream scenarios are re-done here across
// the process boundary: echo, 64 concurrent connections, bulk byte-exact in
// both directions at once, EOF after data, and waitSync. Twice: on a default
// link, and on the fast one (MTU 9000 in 9216-byte memif buffers, a trusted link
// with no checksums at all) with 1% of our frames dropped each way by
// inetstack's FaultDevice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AF_INET, Opcode, type QResult, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { FaultDevice } from '@demi/inetstack';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CatnipLibOS, retainEal } from '../src/index.js';
import { missingDpdk, sleep } from './helpers.js';
import { Pattern } from './kernel-peer.js';

const OURS = '10.78.0.1';
const PEER = '10.78.0.2';
const fixture = join(import.meta.dirname, 'fixtures', 'memif-stack-peer.ts');
const TIMEOUT = 30_000;

interface LinkVariant {
  name: string;
  mtu?: number;
  bsize?: number;
  trusted?: boolean;
  dropPct?: number;
  /** Frames the peer receives at least over the whole suite. */
  minPeerFrames: number;
}

const VARIANTS: LinkVariant[] = [
  { name: 'default link', minPeerFrames: 20_000 },
  {
    name: 'MTU 9000, trusted link (no checksums), 1% loss',
    mtu: 9000,
    bsize: 9216,
    trusted: true,
    dropPct: 1,
    minPeerFrames: 3_000,
  },
];

// One EAL per process: it stays up from the first suite to the end of the file.
let releaseEal: (() => void) | undefined;
for (const v of VARIANTS) memifStackSuite(v);
afterAll(() => releaseEal?.());

function memifStackSuite(v: LinkVariant): void {
  describePrivileged(
    `catnip stacks in two processes over net_memif: ${v.name}`,
    missingDpdk,
    () => {
      let dir: string;
      let libos: CatnipLibOS;
      let child: ChildProcess;
      let out = '';
      let stopPump: () => void = () => {};

      async function until(text: string, ms = 30_000): Promise<void> {
        const deadline = Date.now() + ms;
        while (!out.includes(text)) {
          if (child.exitCode !== null) throw new Error(`peer exited: ${out}`);
          if (Date.now() > deadline) throw new Error(`peer did not say ${text}: ${out}`);
          await sleep(10);
        }
      }

      async function ok(qt: number, opcode: number): Promise<QResult> {
        const r = await libos.wait(qt, TIMEOUT);
        expect(r.opcode, `ret ${r.ret}`).toBe(opcode);
        return r;
      }

      async function connect(): Promise<number> {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        await ok(libos.connect(qd, { address: PEER, port: 7 }), Opcode.CONNECT);
        return qd;
      }

      async function readExactly(qd: number, n: number): Promise<Uint8Array> {
        const buf = new Uint8Array(n);
        let got = 0;
        while (got < n) {
          const r = await ok(libos.pop(qd), Opcode.POP);
          for (const s of r.sga!.segments) {
            if (s.byteLength === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
            buf.set(s, got);
            got += s.byteLength;
          }
        }
        return buf;
      }

      let faults: FaultDevice | undefined;
      const track = failOnInternalErrors();
      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'demi-catnip-memif-stack-'));
        const socket = join(dir, 'memif.sock');
        const bsize = v.bsize === undefined ? '' : `,bsize=${v.bsize}`;
        libos = track(
          new CatnipLibOS({
            config: {
              demikernel: { local_ipv4_addr: OURS, prefix_length: 24 },
              inetstack_config:
                v.mtu === undefined ? {} : { mtu: v.mtu, enable_jumbo_frames: true },
            },
            device: {
              vdevs: [`net_memif0,role=server,id=0,socket=${socket},socket-abstract=no${bsize}`],
              trustedLink: v.trusted === true,
            },
            wrap: (port) =>
              v.dropPct === undefined
                ? port
                : (faults = new FaultDevice(port, { seed: 1717, dropPct: v.dropPct })),
          }),
        );
        releaseEal ??= retainEal();
        const peerArgs = [
          String(v.mtu ?? 0),
          String(v.bsize ?? 0),
          v.trusted ? 'trusted' : 'checked',
        ];
        child = spawn(process.execPath, ['--import', 'tsx', fixture, socket, PEER, ...peerArgs], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        await until('ready');
        await libos.port.waitForLink();
        // Keep our stack answering while a test waits on something else.
        const qd = libos.socket(AF_INET, SOCK_DGRAM);
        libos.bind(qd, { address: OURS, port: 9 });
        libos.wait(libos.pop(qd)).catch(() => {});
        stopPump = () => libos.close(qd);
      });

      afterAll(async () => {
        if (child?.exitCode === null) child.kill();
        if (libos && !libos.isShutdown) await libos.shutdown();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('the link is what the variant asked for', () => {
        expect(libos.port.mtu).toBe(v.mtu ?? 1500);
        expect(libos.port.port.trustedLink).toBe(v.trusted === true);
        expect(libos.port.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso: 0 });
      });

      it('TCP echo across the processes', async () => {
        const qd = await connect();
        await ok(
          libos.push(qd, { segments: [new TextEncoder().encode('hello demi')] }),
          Opcode.PUSH,
        );
        expect(new TextDecoder().decode(await readExactly(qd, 10))).toBe('hello demi');
        expect(libos.getpeername(qd)).toEqual({ address: PEER, port: 7 });
        libos.close(qd);
      });

      it('64 concurrent connections echo', async () => {
        const results = await Promise.all(
          Array.from({ length: 64 }, async (_, i) => {
            const qd = await connect();
            const msg = new Uint8Array(new Uint32Array([i * 7919 + 1]).buffer);
            await ok(libos.push(qd, { segments: [msg] }), Opcode.PUSH);
            const back = await readExactly(qd, 4);
            libos.close(qd);
            return Buffer.compare(back, msg);
          }),
        );
        expect(results.every((r) => r === 0)).toBe(true);
      });

      it('32 MiB byte-exact in both directions at once', async () => {
        const size = 32 * 2 ** 20;
        const qd = await connect();
        const source = new Pattern(21);
        const expected = new Pattern(21);
        const sending = (async () => {
          const inflight: Promise<QResult>[] = [];
          for (let sent = 0; sent < size; sent += 256 * 1024) {
            const chunk = new Uint8Array(Math.min(256 * 1024, size - sent));
            source.fill(chunk);
            inflight.push(ok(libos.push(qd, { segments: [chunk] }), Opcode.PUSH));
            if (inflight.length >= 8) await inflight.shift();
          }
          await Promise.all(inflight);
        })();
        let got = 0;
        while (got < size) {
          const r = await ok(libos.pop(qd, 1 << 20), Opcode.POP);
          for (const s of r.sga!.segments) {
            expect(s.byteLength).toBeGreaterThan(0);
            expect(expected.check(s)).toBe(-1);
            got += s.byteLength;
          }
        }
        await sending;
        expect(got).toBe(size);
        libos.close(qd);
        const stats = libos.port.stats();
        expect(stats.rxBadChecksum).toBe(0);
        // Full-sized frames carried the data: jumbo ones on the fast link.
        expect(stats.rxBytes / stats.rxFrames).toBeGreaterThan(v.mtu === undefined ? 700 : 3000);
        if (faults !== undefined) expect(faults.stats.dropped).toBeGreaterThan(20);
      });

      it('EOF is a zero-length pop, after all data; closing twice is EBADF', async () => {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        await ok(libos.connect(qd, { address: PEER, port: 8 }), Opcode.CONNECT);
        expect(new TextDecoder().decode(await readExactly(qd, 10))).toBe('last words');
        const eof = await ok(libos.pop(qd), Opcode.POP);
        expect(eof.sga!.segments.reduce((n, s) => n + s.byteLength, 0)).toBe(0);
        libos.close(qd);
        expect(() => libos.close(qd)).toThrow(/EBADF/);
      });

      it('waitSync busy-polls to completion across processes', () => {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        libos.waitSync(libos.connect(qd, { address: PEER, port: 7 }), TIMEOUT);
        for (let i = 0; i < 16; i++) {
          const msg = new TextEncoder().encode(`ping${i}`);
          expect(libos.waitSync(libos.push(qd, { segments: [msg] }), TIMEOUT).opcode).toBe(
            Opcode.PUSH,
          );
          let text = '';
          while (text.length < msg.byteLength) {
            const r = libos.waitSync(libos.pop(qd), TIMEOUT);
            text += new TextDecoder().decode(r.sga!.segments[0]);
          }
          expect(text).toBe(`ping${i}`);
        }
        libos.close(qd);
      });

      it('both ends shut down cleanly', async () => {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        await ok(libos.connect(qd, { address: PEER, port: 9 }), Opcode.CONNECT);
        await until('idle');
        libos.close(qd);
        stopPump();
        // The peer no longer polls: closing our end cannot race its DPDK bursts.
        await libos.shutdown();
        child.stdin!.end();
        const deadline = Date.now() + 20_000;
        while (child.exitCode === null && Date.now() < deadline) await sleep(10);
        expect(child.exitCode, out).toBe(0);
        const stats = JSON.parse(/bye (\{.*\})/.exec(out)![1]!);
        expect(stats.rxFrames).toBeGreaterThan(v.minPeerFrames);
        expect(stats.txDropped).toBe(0);
        expect(stats.rxBadChecksum).toBe(0);
      });
    },
  );
}
