import { createHash } from 'node:crypto';
import { Opcode, type QDesc, type Sga } from '@demi/core';
import { expectDemiError, pattern } from '@demi/core/conformance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catmem } from '../src/index.js';
import { fixture, uniqueName } from './support/child.js';

// Pops reuse the memory of sgas given back with sgafree (src/pop-pool.ts): the
// bytes must stay exact whichever buffer they land in, a freed buffer must
// really come back, and bad frees must never put a buffer in twice.

let source: Catmem;
let sink: Catmem;
let tx: QDesc;
let rx: QDesc;

beforeEach(() => {
  source = new Catmem({ ringSize: 256 * 1024 });
  sink = new Catmem();
  const name = uniqueName('reuse');
  tx = source.createPipe(name);
  rx = sink.openPipe(name);
});

afterEach(async () => {
  await source.shutdown();
  await sink.shutdown();
});

async function send(data: Uint8Array): Promise<void> {
  const r = await source.wait(source.push(tx, { segments: [data] }), 10_000);
  expect(r.opcode).toBe(Opcode.PUSH);
}

async function receive(): Promise<Sga> {
  const r = await sink.wait(sink.pop(rx, 1 << 20), 10_000);
  expect(r.opcode).toBe(Opcode.POP);
  return r.sga!;
}

/** A message of `length` bytes through the pipe; returns the sga it popped as. */
async function roundTrip(length: number, seed: number): Promise<Sga> {
  const data = pattern(length, seed);
  await send(data);
  const sga = await receive();
  expect(sga.segments).toHaveLength(1);
  expect(Buffer.compare(sga.segments[0]!, data)).toBe(0);
  return sga;
}

describe('pops after sgafree', () => {
  it('a freed 64 KiB pop lends its memory to the next long pop that fills half of it', async () => {
    const first = await roundTrip(65536, 1);
    const buffer = first.segments[0]!.buffer;
    expect(buffer.byteLength).toBe(65536); // a buffer of its own, nothing else in it
    sink.sgafree(first);
    // 40 KiB fill more than half: the same memory, holding exactly the new bytes.
    const second = await roundTrip(40_000, 2);
    expect(second.segments[0]!.buffer).toBe(buffer);
    expect(second.segments[0]!.byteOffset).toBe(0);
    sink.sgafree(second);
    // 20 KiB would waste more than half: a buffer of its own; the 64 KiB one waits.
    const small = await roundTrip(20_000, 3);
    expect(small.segments[0]!.buffer).not.toBe(buffer);
    expect(small.segments[0]!.buffer.byteLength).toBe(20_000);
    const third = await roundTrip(65536, 4);
    expect(third.segments[0]!.buffer).toBe(buffer);
    // Not freed: the next pop gets new memory and the held bytes stay as they were.
    const fourth = await roundTrip(65536, 5);
    expect(fourth.segments[0]!.buffer).not.toBe(buffer);
    expect(Buffer.compare(third.segments[0]!, pattern(65536, 4))).toBe(0);
  });

  it('short pops (through the staging buffer) and end of file free without lending', async () => {
    const short = await roundTrip(100, 6);
    sink.sgafree(short);
    const long = await roundTrip(65536, 7);
    expect(long.segments[0]!.buffer).not.toBe(short.segments[0]!.buffer);
    source.close(tx);
    const eof1 = await receive();
    expect(eof1.segments).toEqual([]);
    sink.sgafree(eof1);
    const eof2 = await receive();
    expect(eof2).not.toBe(eof1); // each end-of-file sga can be freed once
    sink.sgafree(eof2);
  });

  it('freeing a foreign sga or a copy of a popped one changes nothing; twice is EINVAL; nothing is lent twice', async () => {
    const popped = await roundTrip(65536, 8);
    const buffer = popped.segments[0]!.buffer;
    // Accepted and ignored, as on every LibOS: the caller's own memory, another instance's pop.
    sink.sgafree({ segments: [new Uint8Array(65536)] });
    source.sgafree(popped);
    sink.sgafree(popped);
    expectDemiError(() => sink.sgafree(popped), 'EINVAL');
    sink.sgafree({ segments: popped.segments });
    sink.sgafree({ segments: [popped.segments[0]!.subarray(0)] });
    // Had any of those put the buffer back a second time, two held pops would share it.
    const a = await roundTrip(65536, 9);
    const b = await roundTrip(65536, 10);
    expect(a.segments[0]!.buffer).toBe(buffer);
    expect(b.segments[0]!.buffer).not.toBe(buffer);
    expect(Buffer.compare(a.segments[0]!, pattern(65536, 9))).toBe(0);
    expect(Buffer.compare(b.segments[0]!, pattern(65536, 10))).toBe(0);
  });

  it('a freed buffer the caller detached (transferred) is dropped, not reused', async () => {
    const popped = await roundTrip(65536, 12);
    const buffer = popped.segments[0]!.buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] });
    expect(buffer.byteLength).toBe(0);
    sink.sgafree(popped);
    const next = await roundTrip(65536, 13);
    expect(next.segments[0]!.buffer).not.toBe(buffer);
  });

  it('freed memory of an instance that stopped popping is dropped within about two seconds', async () => {
    const popped = await roundTrip(65536, 14);
    const buffer = popped.segments[0]!.buffer;
    sink.sgafree(popped);
    // The trim timer runs every second: the first look after the pop sees it, the second drops.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const next = await roundTrip(65536, 15);
    expect(next.segments[0]!.buffer).not.toBe(buffer);
  });

  it('sgaalloc memory frees once and never backs a pop', async () => {
    const own = sink.sgaalloc(65536);
    sink.sgafree(own);
    expectDemiError(() => sink.sgafree(own), 'EINVAL');
    const popped = await roundTrip(65536, 11);
    expect(popped.segments[0]!.buffer).not.toBe(own.segments[0]!.buffer);
  });

  it('streams mixed sizes byte-exact through a wrapping ring, freeing every sga', async () => {
    // Sizes around the 4 KiB staging threshold, half a spare and the ring's largest record.
    const maxMessage = source.pipeInfo(tx).maxMessage;
    const sizes = [1, 4096, 4097, 65536, 32_768, 32_767, 100_000, maxMessage, 65536, 7];
    const sent = createHash('sha256');
    const got = createHash('sha256');
    const seen = new Set<ArrayBufferLike>();
    let reused = 0;
    let bytes = 0;
    for (let i = 0; i < 600; i += 3) {
      // Three pushes in flight (more than the ring holds at the largest sizes), then their pops.
      const pushes: Promise<unknown>[] = [];
      // Each size three times in a row: a stream that repeats its sizes reuses its memory.
      const size = sizes[(i / 3) % sizes.length]!;
      for (let k = i; k < i + 3; k++) {
        const data = pattern(size, 100 + k);
        sent.update(data);
        bytes += data.byteLength;
        pushes.push(source.wait(source.push(tx, { segments: [data] }), 10_000));
      }
      for (let k = 0; k < 3; k++) {
        const sga = await receive();
        const segment = sga.segments[0]!;
        got.update(segment);
        if (segment.byteLength > 4096) {
          if (seen.has(segment.buffer)) reused++;
          seen.add(segment.buffer);
        }
        sink.sgafree(sga);
      }
      await Promise.all(pushes);
    }
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(bytes).toBeGreaterThan(4 * 256 * 1024); // the ring wrapped
    // 420 long pops; only the first pops of each new size need memory of their own.
    expect(reused).toBeGreaterThan(300);
  });
});

describe('two processes, the consumer freeing every sga', () => {
  it('streams 64 MiB byte-exact', async () => {
    const name = uniqueName('reuse-stream');
    const consumer = fixture('stream-consumer.mjs', name, 'free');
    expect(await consumer.line()).toBe('ready');
    const producer = fixture('stream-producer.mjs', name, String(64 * 1024 ** 2));
    const sent = JSON.parse(await producer.line());
    const got = JSON.parse(await consumer.line());
    expect((await producer.exited).code).toBe(0);
    expect((await consumer.exited).code).toBe(0);
    expect(got).toMatchObject({
      bytes: 64 * 1024 ** 2,
      messages: sent.messages,
      inOrder: true,
      sha256: sent.sha256,
    });
    // Every pop but the first (and a short last one) landed in the memory freed before it.
    expect(got.reused).toBeGreaterThanOrEqual(got.messages - 2);
  });
});

describe('short pops (4 KiB or less) in shared slabs', () => {
  it('stay byte-exact and unchanged while later pops arrive, freed neighbours or not', async () => {
    const held: { view: Uint8Array; copy: Uint8Array }[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let pops = 0;
    for (let i = 0; i < 1200; i++) {
      // Every size from 1 to 4096 comes up (37 and 4096 share no factor), 4096 itself too.
      const size = i === 7 ? 4096 : 1 + ((i * 37) % 4096);
      const sga = await roundTrip(size, 200 + i);
      const view = sga.segments[0]!;
      pops++;
      buffers.add(view.buffer);
      expect(view.byteOffset % 8).toBe(0);
      // Free every third: sgafree gives a short pop's memory to no one.
      if (i % 3 === 2) sink.sgafree(sga);
      else held.push({ view, copy: view.slice() });
    }
    for (const { view, copy } of held) expect(Buffer.compare(view, copy)).toBe(0);
    // About 2 KiB a pop in 64 KiB slabs: a new slab every 30 or so pops, not one buffer each.
    expect(buffers.size).toBeLessThan(pops / 10);
  });

  it('a long pop between short ones never lands in a slab, and the slab is never reused after sgafree', async () => {
    const a = await roundTrip(64, 300);
    const b = await roundTrip(64, 301);
    expect(b.segments[0]!.buffer).toBe(a.segments[0]!.buffer);
    const bytesOfA = a.segments[0]!.slice();
    sink.sgafree(b);
    const long = await roundTrip(65536, 302);
    expect(long.segments[0]!.buffer).not.toBe(a.segments[0]!.buffer);
    sink.sgafree(long);
    // The freed long pop's buffer comes back; the slab of the freed short one never does.
    const next = await roundTrip(65536, 303);
    expect(next.segments[0]!.buffer).toBe(long.segments[0]!.buffer);
    const c = await roundTrip(64, 304);
    expect(c.segments[0]!.byteOffset).toBeGreaterThan(b.segments[0]!.byteOffset);
    expect(Buffer.compare(a.segments[0]!, bytesOfA)).toBe(0);
  });
});
