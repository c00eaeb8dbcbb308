import { createHash } from 'node:crypto';
import { AF_INET, Opcode, type QDesc, type Sga, SOCK_STREAM } from '@demi/core';
import { expectDemiError } from '@demi/core/conformance';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catloop } from '../src/index.js';
import { freshPort, litter, TEST_NET } from './support/env.js';
import { ok, pattern } from './support/stream.js';

// Pops reuse the memory of sgas given back with sgafree (catmem's PopPool):
// a byte stream through a connection stays exact whichever buffer each pop
// lands in, and a freed buffer really comes back.

const ADDRESS = `${TEST_NET}7.1`;

let server: Catloop;
let client: Catloop;
let tx: QDesc;
let rx: QDesc;

beforeEach(async () => {
  // 256 KiB rings: the streams below wrap them many times.
  server = new Catloop({ ringSize: 256 * 1024 });
  client = new Catloop({ ringSize: 256 * 1024 });
  const port = freshPort();
  const listener = server.socket(AF_INET, SOCK_STREAM);
  server.bind(listener, { address: ADDRESS, port });
  server.listen(listener, 4);
  const accepting = server.wait(server.accept(listener), 20_000);
  tx = client.socket(AF_INET, SOCK_STREAM);
  await ok(client, client.connect(tx, { address: ADDRESS, port }), Opcode.CONNECT);
  const accepted = await accepting;
  expect(accepted.opcode).toBe(Opcode.ACCEPT);
  rx = accepted.accepted!.qd;
});

afterEach(async () => {
  await client.shutdown();
  await server.shutdown();
});

afterAll(() => {
  expect(litter()).toEqual([]);
});

async function pop(size = 64 * 1024): Promise<Sga> {
  return (await ok(server, server.pop(rx, size), Opcode.POP)).sga!;
}

describe('catloop pops after sgafree', () => {
  it('reuse the freed memory, with exactly the new bytes in it', async () => {
    const first = pattern(65536, 1);
    await ok(client, client.push(tx, { segments: [first] }), Opcode.PUSH);
    const a = await pop();
    expect(Buffer.compare(a.segments[0]!, first)).toBe(0);
    const buffer = a.segments[0]!.buffer;
    server.sgafree(a);
    expectDemiError(() => server.sgafree(a), 'EINVAL');
    // A copy, or another instance's pop, is accepted and puts nothing back a second time.
    server.sgafree({ segments: a.segments });
    client.sgafree(a);
    const second = pattern(50_000, 2);
    await ok(client, client.push(tx, { segments: [second] }), Opcode.PUSH);
    const b = await pop();
    expect(b.segments[0]!.buffer).toBe(buffer);
    expect(Buffer.compare(b.segments[0]!, second)).toBe(0);
    // b is held: the next pop may not share its memory.
    const third = pattern(65536, 3);
    await ok(client, client.push(tx, { segments: [third] }), Opcode.PUSH);
    const c = await pop();
    expect(c.segments[0]!.buffer).not.toBe(buffer);
    expect(Buffer.compare(b.segments[0]!, second)).toBe(0);
    expect(Buffer.compare(c.segments[0]!, third)).toBe(0);
  });

  it('streams 32 MiB byte-exact in pushes of many sizes, the reader freeing every sga', async () => {
    const total = 32 * 1024 * 1024;
    const sizes = [65536, 65536, 100_000, 5000, 1, 130_000, 4096, 4097, 65536];
    const sent = createHash('sha256');
    const got = createHash('sha256');
    const seen = new Set<ArrayBufferLike>();
    let reused = 0;
    let pops = 0;
    const pushing = (async () => {
      const inflight: number[] = [];
      let seq = 0;
      for (let off = 0; off < total; seq++) {
        const data = pattern(Math.min(sizes[seq % sizes.length]!, total - off), seq + 1);
        sent.update(data);
        off += data.byteLength;
        inflight.push(client.push(tx, { segments: [data] }));
        if (inflight.length >= 8) await ok(client, inflight.shift()!, Opcode.PUSH);
      }
      for (const qt of inflight) await ok(client, qt, Opcode.PUSH);
    })();
    for (let received = 0; received < total; ) {
      // Pop sizes below, at and above a record's: records are cut and continued.
      const sga = await pop([65536, 30_000, 1 << 20][pops % 3]);
      const segment = sga.segments[0]!;
      got.update(segment);
      received += segment.byteLength;
      pops++;
      if (segment.byteLength > 4096) {
        if (seen.has(segment.buffer)) reused++;
        seen.add(segment.buffer);
      }
      server.sgafree(sga);
    }
    await pushing;
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(reused).toBeGreaterThan(pops / 4);
  });
});

describe('catloop short pops (4 KiB or less) in shared slabs', () => {
  it('stay byte-exact and unchanged while later pops arrive, freed neighbours or not', async () => {
    const sent = createHash('sha256');
    const got = createHash('sha256');
    const held: { view: Uint8Array; copy: Uint8Array }[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let pops = 0;
    for (let i = 0; i < 600; i++) {
      const size = i === 7 ? 4096 : 1 + ((i * 37) % 4096);
      const data = pattern(size, 400 + i);
      sent.update(data);
      await ok(client, client.push(tx, { segments: [data] }), Opcode.PUSH);
      for (let received = 0; received < size; ) {
        const sga = await pop(4096);
        const view = sga.segments[0]!;
        got.update(view);
        received += view.byteLength;
        pops++;
        buffers.add(view.buffer);
        expect(view.byteOffset % 8).toBe(0);
        if (pops % 3 === 0) server.sgafree(sga);
        else held.push({ view, copy: view.slice() });
      }
    }
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    for (const { view, copy } of held) expect(Buffer.compare(view, copy)).toBe(0);
    expect(buffers.size).toBeLessThan(pops / 10);
  });
});
