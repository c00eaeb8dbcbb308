// Popped bytes live in slabs whose memory is reused once V8 has collected
// every view of a slab. A slab must never be reused while JS still holds a
// view of it: views kept across many later pops and collections must still
// read the bytes they were popped with.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOTAL = 48 * 1024 * 1024;
const CHUNK = 256 * 1024;

/** Bytes that differ at every offset of the stream, so a misplaced or stale byte shows. */
function chunkAt(offset: number): Buffer {
  const b = Buffer.allocUnsafe(CHUNK);
  for (let i = 0; i < CHUNK; i += 4) b.writeUInt32LE((offset + i) >>> 0, i);
  return b;
}

let libos: Catnap;
let server: Server;
beforeEach(() => {
  libos = new Catnap();
});
afterEach(async () => {
  await libos.shutdown();
  server?.close();
});

describe('receive slabs', () => {
  it('views kept across 48 MiB of later pops and forced collections keep their bytes', async () => {
    const sent = createHash('sha256');
    server = createServer((peer: Socket) => {
      let offset = 0;
      const next = (): void => {
        while (offset < TOTAL) {
          const chunk = chunkAt(offset);
          sent.update(chunk);
          offset += CHUNK;
          if (!peer.write(chunk)) return void peer.once('drain', next);
        }
        peer.end();
      };
      next();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };

    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expect((await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }))).opcode).toBe(
      Opcode.CONNECT,
    );

    const received = createHash('sha256');
    const kept: { view: Uint8Array; copy: Buffer }[] = [];
    let total = 0;
    let pops = 0;
    for (;;) {
      const r = await libos.wait(libos.pop(qd));
      expect(r.opcode).toBe(Opcode.POP);
      const segments = r.sga!.segments;
      if (segments.length === 0 || segments[0]!.byteLength === 0) break;
      for (const view of segments) {
        received.update(view);
        total += view.byteLength;
        // Keep every 5th view (and its bytes as they were) alive to the end.
        if (pops % 5 === 0) kept.push({ view, copy: Buffer.from(view) });
      }
      if (++pops % 64 === 0) gc();
    }
    gc();
    expect(total).toBe(TOTAL);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    let changed = 0;
    for (const { view, copy } of kept) if (!copy.equals(view)) changed++;
    expect(changed).toBe(0);
    expect(kept.length).toBeGreaterThan(100);
  }, 120_000);
});
