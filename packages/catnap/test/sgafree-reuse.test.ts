// A pool slab whose every popped view was freed with sgafree goes back to the
// pool at once, without waiting for V8 to collect the views: a bulk reader that
// frees what it read keeps reusing the same memory, even in a waitSync loop
// (which never lets finalizers run). Views not freed, and read-ahead bytes
// still waiting in a slab, must keep their bytes; no slab may come back twice.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Opcode, type QDesc } from '@demi/core';
import { pattern } from '@demi/core/conformance';
import { describe, expect, it } from 'vitest';
import type { Catnap } from '../src/index.js';
import { catnapPerTest, detachable } from './support/node-peer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** At most this many pool slabs exist at once (native/slabs.cc). */
const MAX_POOL_SLABS = 128;
const CHUNK = 256 * 1024;

/** The stream's 32-bit little-endian words count its byte offset: a stale or misplaced byte shows. */
function chunkAt(offset: number): Buffer {
  const b = Buffer.allocUnsafe(CHUNK);
  for (let i = 0; i < CHUNK; i += 4) b.writeUInt32LE((offset + i) >>> 0, i);
  return b;
}

function streamDigest(total: number): string {
  const h = createHash('sha256');
  for (let offset = 0; offset < total; offset += CHUNK) h.update(chunkAt(offset));
  return h.digest('hex');
}

let libos: Catnap;
const { serve, connect } = catnapPerTest((l) => {
  libos = l;
});

interface Received {
  digest: string;
  total: number;
  held: { view: Uint8Array; copy: Buffer }[];
  last: Uint8Array;
}

/**
 * Pops 64 KiB at a time to end of file, freeing every sga but each `keepEvery`th
 * (kept with a copy of its bytes); `between` runs after each pop.
 */
async function popAll(
  qd: QDesc,
  sync: boolean,
  keepEvery: number,
  between?: (pops: number) => Promise<void> | void,
): Promise<Received> {
  const hash = createHash('sha256');
  const held: Received['held'] = [];
  let total = 0;
  let last: Uint8Array = new Uint8Array();
  for (let pops = 1; ; pops++) {
    const qt = libos.pop(qd, 65536);
    const r = sync ? libos.waitSync(qt) : await libos.wait(qt);
    expect(r.opcode).toBe(Opcode.POP);
    const view = r.sga!.segments[0]!;
    if (view.byteLength === 0) break;
    hash.update(view);
    total += view.byteLength;
    last = view;
    if (pops % keepEvery === 0) held.push({ view, copy: Buffer.from(view) });
    else libos.sgafree(r.sga!);
    await between?.(pops);
  }
  return { digest: hash.digest('hex'), total, held, last };
}

/** Pops `qd` to end of file in pops of `size`, copying each view out and freeing its sga. */
async function copyAndFreeToEnd(qd: QDesc, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (;;) {
    const r = await libos.wait(libos.pop(qd, size));
    const view = r.sga!.segments[0]!;
    if (view.byteLength === 0) return out;
    out.push(Buffer.from(view));
    libos.sgafree(r.sga!);
  }
}

function expectPoolBounded(): void {
  const { outstanding, pooled } = libos.slabStats;
  expect(outstanding).toBeLessThanOrEqual(MAX_POOL_SLABS);
  expect(pooled).toBeLessThanOrEqual(MAX_POOL_SLABS);
  expect(outstanding + pooled).toBeLessThanOrEqual(MAX_POOL_SLABS + 8);
}

describe('sgafree gives pool slabs back', () => {
  it('async bulk, every sga but a few freed: byte-exact, held views unchanged, memory reused', async () => {
    const total = 96 << 20;
    const port = await serve((peer) => {
      let offset = 0;
      const next = (): void => {
        while (offset < total) {
          const ok = peer.write(chunkAt(offset));
          offset += CHUNK;
          if (!ok) return void peer.once('drain', next);
        }
        peer.end();
      };
      next();
    });
    const qd = await connect(port);
    // Collections and finalizer turns throughout: a slab already given back by
    // sgafree must not come back again when V8 collects it.
    const got = await popAll(qd, false, 37, async (pops) => {
      if (pops % 97 === 0) {
        gc();
        await new Promise((r) => setImmediate(r));
        expectPoolBounded();
      }
    });
    expect(got.total).toBe(total);
    expect(got.digest).toBe(streamDigest(total));
    expect(got.held.length).toBeGreaterThan(20);
    for (const { view, copy } of got.held) expect(copy.equals(view)).toBe(true);
    // 192 slabs' worth of bytes; most slabs hold no kept view and came back early.
    expect(libos.slabStats.returnedEarly).toBeGreaterThan(50);
    expectPoolBounded();
  }, 120_000);

  it('waitSync bulk (no finalizers run) keeps popping into pool slabs', async () => {
    // The peer is another process: waitSync blocks this one's event loop.
    const total = 160 << 20;
    const peer = spawn(
      process.execPath,
      [
        '-e',
        `const net = require('node:net');
         const total = ${total}, chunk = ${CHUNK};
         const at = (offset) => { const b = Buffer.allocUnsafe(chunk);
           for (let i = 0; i < chunk; i += 4) b.writeUInt32LE((offset + i) >>> 0, i); return b; };
         const server = net.createServer((s) => { let offset = 0;
           const next = () => { while (offset < total) { const ok = s.write(at(offset)); offset += chunk;
             if (!ok) return void s.once('drain', next); } s.end(() => server.close()); };
           next(); });
         server.listen(0, '127.0.0.1', () => console.log(server.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(peer.stdout!, 'data')) as [Buffer];
      const qd = await connect(Number(line.toString().trim()));
      const got = await popAll(qd, true, 1_000_000);
      expect(got.total).toBe(total);
      expect(got.digest).toBe(streamDigest(total));
      // 320 slabs' worth of bytes, more than the pool's 128: without early
      // returns the pool would have run dry and the last pops would sit in
      // allocator slabs (which JS may transfer).
      expect(libos.slabStats.returnedEarly).toBeGreaterThan(MAX_POOL_SLABS);
      expect(detachable(got.last)).toBe(false);
      expectPoolBounded();
    } finally {
      peer.kill();
    }
  }, 120_000);

  it('a slab with read-ahead bytes waiting is not given back, even with its views freed', async () => {
    const sizes = [300_000, 600_000];
    const port = await serve((peer, i) => peer.end(pattern(sizes[i]!, 60 + i)));
    const first = await connect(port);
    const second = await connect(port);
    await new Promise((r) => setTimeout(r, 100));
    // One read takes the first stream's bytes (up to 256 KiB) into a slab; the pop hands out 8.
    const head = await libos.wait(libos.pop(first, 8));
    const firstBytes: Uint8Array[] = [Buffer.from(head.sga!.segments[0]!)];
    libos.sgafree(head.sga!);
    // The second stream's pops start new slabs: the first one is no longer current.
    const secondBytes = await copyAndFreeToEnd(second, 400_000);
    expect(libos.slabStats.returnedEarly).toBeGreaterThan(0);
    expect(Buffer.concat(secondBytes).equals(pattern(sizes[1]!, 61))).toBe(true);
    // The read-ahead bytes are still the first stream's.
    firstBytes.push(...(await copyAndFreeToEnd(first, 65536)));
    expect(Buffer.concat(firstBytes).equals(pattern(sizes[0]!, 60))).toBe(true);
    expectPoolBounded();
  });

  it('sgafree of sgas catnap did not pop, or whose segment was replaced, gives nothing back', async () => {
    const total = 4 << 20;
    const port = await serve((peer) => peer.end(pattern(total, 7)));
    const qd = await connect(port);
    const views: Uint8Array[] = [];
    for (;;) {
      const r = await libos.wait(libos.pop(qd, 65536));
      const view = r.sga!.segments[0]!;
      if (view.byteLength === 0) break;
      views.push(view);
      // A copy of the sga, and the sga itself once its segment is replaced.
      libos.sgafree({ segments: [view] });
      r.sga!.segments[0] = Buffer.from(view);
      libos.sgafree(r.sga!);
    }
    expect(libos.slabStats.returnedEarly).toBe(0);
    expect(Buffer.concat(views).equals(pattern(total, 7))).toBe(true);
  });
});
