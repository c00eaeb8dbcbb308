import { statSync } from 'node:fs';
import type { QResult } from '@demi/core';
import { describe, expect, it } from 'vitest';
import { Catmem } from '../src/index.js';
import { uniqueName } from './support/child.js';

const PAGE = 4096;
/** Bytes of shared memory the pipe's object holds (tmpfs counts reserved pages). */
const reserved = (name: string) => statSync(`/dev/shm/demi-catmem.${name}`).blocks * 512;
const seq = (n: number, seed = 0) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const bytes = (r: QResult): Uint8Array => r.sga!.segments[0] ?? new Uint8Array(0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ring memory', () => {
  it('is reserved as data is in flight and given back once the pipe is idle', async () => {
    const a = new Catmem({ ringSize: 1 << 20 });
    const b = new Catmem();
    const name = uniqueName('mem');
    try {
      const qa = a.createPipe(name);
      const qb = b.openPipe(name);
      // The header and one page of each ring, nothing more.
      expect(reserved(name)).toBeLessThanOrEqual(3 * PAGE);

      // 400 kB in flight and nobody reading: the producer reserves as it writes.
      const data = Array.from({ length: 8 }, (_, i) => seq(50_000, i));
      const pushed = await Promise.all(
        data.map((d) => a.wait(a.push(qa, { segments: [d] }), 5000)),
      );
      expect(pushed.every((r) => r.ret === 0)).toBe(true);
      expect(reserved(name)).toBeGreaterThanOrEqual(400_000);
      for (const d of data) expect(bytes(await b.wait(b.pop(qb), 5000))).toEqual(d);

      // Idle: a pending pop (the reader passes the wrap marker trimming writes)
      // and a few trim periods later the ring is back to its first page.
      const next = b.wait(b.pop(qb, 1 << 20), 20_000);
      const deadline = Date.now() + 10_000;
      while (reserved(name) > 3 * PAGE && Date.now() < deadline) await sleep(100);
      expect(reserved(name)).toBeLessThanOrEqual(3 * PAGE);

      // It grows again on demand, and the bytes arrive intact.
      const again = seq(300_000, 9);
      expect((await a.wait(a.push(qa, { segments: [again] }), 5000)).ret).toBe(0);
      expect(bytes(await next)).toEqual(again);
      expect(reserved(name)).toBeGreaterThanOrEqual(300_000);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('stays in the first page of each ring through thousands of small round trips', async () => {
    const a = new Catmem({ ringSize: 1 << 20 });
    const b = new Catmem();
    const name = uniqueName('pp');
    try {
      const qa = a.createPipe(name);
      const qb = b.openPipe(name);
      for (let i = 0; i < 3000; i++) {
        const msg = seq(64, i);
        await a.wait(a.push(qa, { segments: [msg] }), 5000);
        const r = await b.wait(b.pop(qb), 5000);
        expect(bytes(r)).toEqual(msg);
        await b.wait(b.push(qb, r.sga!), 5000);
        expect(bytes(await a.wait(a.pop(qa), 5000))).toEqual(msg);
      }
      // 3000 × 72 bytes went each way: every ring wrapped at its 4 KiB limit.
      expect(reserved(name)).toBeLessThanOrEqual(3 * PAGE);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('keeps every record whole across early wraps, growth and partial pops', async () => {
    const a = new Catmem({ ringSize: 256 * 1024 });
    const b = new Catmem();
    const name = uniqueName('wrap');
    try {
      const qa = a.createPipe(name);
      const qb = b.openPipe(name);
      const max = a.pipeInfo(qa).maxMessage;
      // Sizes from one byte to a whole record; a fixed pseudo-random sequence.
      let x = 12345;
      const rand = (n: number) => {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        return 1 + (x % n);
      };
      const sizes = Array.from({ length: 400 }, (_, i) =>
        i % 50 === 0 ? max : rand(i % 3 ? 3000 : 90_000),
      );
      const sent = sizes.map((n, i) => seq(n, i));
      const total = sizes.reduce((s, n) => s + n, 0);
      const pushing = Promise.all(sent.map((d) => a.wait(a.push(qa, { segments: [d] }), 20_000)));
      const expected = new Uint8Array(total);
      let at = 0;
      for (const d of sent) {
        expected.set(d, at);
        at += d.byteLength;
      }
      const got = new Uint8Array(total);
      let n = 0;
      for (let i = 0; n < total; i++) {
        // Whole records, and now and then a pop smaller than the record.
        const r = await b.wait(b.pop(qb, i % 7 === 0 ? rand(5000) : max), 20_000);
        const piece = bytes(r);
        expect(piece.byteLength).toBeGreaterThan(0);
        got.set(piece, n);
        n += piece.byteLength;
      }
      expect((await pushing).every((r) => r.ret === 0)).toBe(true);
      expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});
