// A stream pop may read more than it asked for (up to 256 KiB, into its slab);
// the next pops take those bytes first. Every stream must still arrive
// byte-exact, whatever the pop sizes, however the bytes are split between
// reads, while other sockets start new slabs, and when the peer closes.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Opcode, type QDesc } from '@demi/core';
import { pattern } from '@demi/core/conformance';
import { describe, expect, it } from 'vitest';
import type { Catnap } from '../src/index.js';
import { catnapPerTest, detachable } from './support/node-peer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let libos: Catnap;
const { serve, connect } = catnapPerTest((l) => {
  libos = l;
});

/** Writes `data` to the peer (respecting back-pressure), then ends it. */
function sendAll(peer: Socket, data: Uint8Array, piece = 100_000): void {
  let offset = 0;
  const next = (): void => {
    while (offset < data.byteLength) {
      const end = Math.min(offset + piece, data.byteLength);
      const ok = peer.write(data.subarray(offset, end));
      offset = end;
      if (!ok) return void peer.once('drain', next);
    }
    peer.end();
  };
  next();
}

const digest = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Pops until end of file with the sizes given in turn; checks each pop's length. */
async function popToEnd(
  qd: QDesc,
  sizes: number[],
  sync = false,
): Promise<{ data: Buffer; views: Uint8Array[] }> {
  const views: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    const size = sizes[i % sizes.length]!;
    const qt = libos.pop(qd, size);
    const r = sync ? libos.waitSync(qt) : await libos.wait(qt);
    expect(r.opcode).toBe(Opcode.POP);
    const view = r.sga!.segments[0]!;
    if (view.byteLength === 0) break;
    expect(view.byteLength).toBeLessThanOrEqual(size);
    views.push(view);
  }
  return { data: Buffer.concat(views), views };
}

describe('stream read-ahead', () => {
  it('transfers of sizes around 8 B, 64 KiB and 256 KiB boundaries arrive byte-exact', async () => {
    const totals = [1, 7, 8, 9, 65535, 65536, 65537, 262143, 262144, 262145, 524295, 1 << 20];
    const port = await serve((peer, i) => sendAll(peer, pattern(totals[i]!, i + 1)));
    for (let i = 0; i < totals.length; i++) {
      const qd = await connect(port);
      const { data, views } = await popToEnd(qd, [65536]);
      expect(data.byteLength).toBe(totals[i]);
      expect(digest(data)).toBe(digest(pattern(totals[i]!, i + 1)));
      // 64 KiB pops keep every view 8-byte aligned, read ahead or not.
      expect(views.every((v) => v.byteOffset % 8 === 0)).toBe(true);
      libos.close(qd);
    }
  }, 60_000);

  it('pops of mixed sizes (1 B to 1 MiB) take the bytes in order', async () => {
    const total = 8 << 20;
    const sizes = [65536, 1, 7, 8, 4096, 100_000, 262144, 65535, 3, 1 << 20, 24, 131072];
    const port = await serve((peer) => sendAll(peer, pattern(total, 40)));
    const qd = await connect(port);
    const { data } = await popToEnd(qd, sizes);
    expect(data.byteLength).toBe(total);
    expect(digest(data)).toBe(digest(pattern(total, 40)));
  }, 60_000);

  it('waitSync pops take bytes read ahead (the peer sent everything before the pops)', async () => {
    // waitSync blocks this thread's event loop, so the node:net peer in this
    // process must have sent everything (and closed) before the first pop.
    const total = 1 << 20;
    const sent = pattern(total, 41);
    let closed!: () => void;
    const peerClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const port = await serve((peer) => peer.end(sent, () => closed()));
    const qd = await connect(port);
    await peerClosed;
    await new Promise((r) => setTimeout(r, 50));
    const { data } = await popToEnd(qd, [65536, 10_000, 131072], true);
    expect(data.byteLength).toBe(total);
    expect(digest(data)).toBe(digest(sent));
  });

  it('pops queued together complete in order from reads that took several at once', async () => {
    const total = 192 * 1024 + 1000;
    const sent = pattern(total, 77);
    const port = await serve((peer) => peer.end(sent));
    const qd = await connect(port);
    // Eight pops wait before anything has arrived; the bytes come as the
    // receive window allows, a read may serve several, and end of file
    // answers the rest.
    const tokens = Array.from({ length: 8 }, () => libos.pop(qd, 65536));
    const parts: Uint8Array[] = [];
    let ended = 0;
    for (const qt of tokens) {
      const r = await libos.wait(qt);
      expect(r.opcode).toBe(Opcode.POP);
      const view = r.sga!.segments[0]!;
      if (view.byteLength === 0) ended++;
      else {
        expect(ended).toBe(0); // no bytes after end of file
        parts.push(view);
      }
    }
    const got = Buffer.concat(parts);
    expect(got.byteLength).toBe(total);
    expect(digest(got)).toBe(digest(sent));
    expect(ended).toBeGreaterThan(0);
    libos.close(qd);
  });

  it('two connections popped in turn (each starting slabs under the other) stay byte-exact', async () => {
    const total = 6 << 20;
    const port = await serve((peer, i) => sendAll(peer, pattern(total, 100 + i), 300_000));
    const a = await connect(port);
    const b = await connect(port);
    const got: Uint8Array[][] = [[], []];
    const open = [true, true];
    let pops = 0;
    while (open[0] || open[1]) {
      for (const [i, qd] of [a, b].entries()) {
        if (!open[i]) continue;
        // Odd sizes on one side shift the slab offsets the other sees.
        const r = await libos.wait(libos.pop(qd, i === 0 ? 65536 : 40_000));
        expect(r.opcode).toBe(Opcode.POP);
        const view = r.sga!.segments[0]!;
        if (view.byteLength === 0) open[i] = false;
        else got[i]!.push(view);
        if (++pops % 50 === 0) gc();
      }
    }
    for (const i of [0, 1]) {
      const data = Buffer.concat(got[i]!);
      expect(data.byteLength).toBe(total);
      expect(digest(data)).toBe(digest(pattern(total, 100 + i)));
    }
  }, 60_000);

  it('a peer that closes mid-stream: every byte it sent, then end of file', async () => {
    const total = 300_001;
    const sent = pattern(total, 5);
    // The peer writes, then closes while we have not popped anything yet.
    const port = await serve((peer) => peer.end(sent));
    const qd = await connect(port);
    await new Promise((r) => setTimeout(r, 50));
    const { data } = await popToEnd(qd, [65536, 1000]);
    expect(data.byteLength).toBe(total);
    expect(digest(data)).toBe(digest(sent));
    // After end of file, pops keep saying end of file.
    const again = await libos.wait(libos.pop(qd, 65536));
    expect(again.opcode).toBe(Opcode.POP);
    expect(again.sga!.segments[0]!.byteLength).toBe(0);
  });

  it('closing a socket with bytes read ahead leaves other sockets unharmed', async () => {
    const total = 2 << 20;
    const port = await serve((peer, i) => sendAll(peer, pattern(total, 200 + i)));
    const first = await connect(port);
    const r = await libos.wait(libos.pop(first, 8));
    expect(r.sga!.segments[0]!.byteLength).toBeGreaterThan(0);
    libos.close(first); // its read-ahead, if any, goes with it
    const second = await connect(port);
    const { data } = await popToEnd(second, [65536]);
    expect(data.byteLength).toBe(total);
    expect(digest(data)).toBe(digest(pattern(total, 201)));
  });
});

describe('stream pops into allocator slabs (the pool used up)', () => {
  // At most 128 pool slabs (64 MiB) may await collection; past that, slabs
  // come from the allocator, as they do in a long waitSync loop. Keeping every
  // view of a 66 MiB transfer alive uses the pool up.
  async function usePoolUp(port: number): Promise<Uint8Array[]> {
    const qd = await connect(port);
    const { data, views } = await popToEnd(qd, [65536]);
    expect(digest(data)).toBe(digest(pattern(66 << 20, 1)));
    libos.close(qd);
    return views;
  }

  it('stays byte-exact, async and waitSync, with mixed pop sizes', async () => {
    const sizes = [66 << 20, 3 << 20, 1 << 20];
    const port = await serve((peer, i) => sendAll(peer, pattern(sizes[i]!, i + 1)));
    const kept = await usePoolUp(port);
    const asyncQd = await connect(port);
    const async = await popToEnd(asyncQd, [65536, 8, 100_000, 262144]);
    expect(digest(async.data)).toBe(digest(pattern(sizes[1]!, 2)));
    // The bytes landed in allocator slabs (which JS may transfer; pool slabs it may not).
    expect(detachable(async.views.at(-1)!)).toBe(true);
    libos.close(asyncQd);
    // waitSync blocks the event loop: the peer in this process sends before the pops.
    const syncQd = await connect(port);
    await new Promise((r) => setTimeout(r, 200));
    const sync = await popToEnd(syncQd, [65536, 10_000, 131072], true);
    expect(digest(sync.data)).toBe(digest(pattern(sizes[2]!, 3)));
    expect(kept.length).toBeGreaterThan(1000);
  }, 60_000);

  it('a popped allocator slab that JS transfers costs no later bytes', async () => {
    const sizes = [66 << 20, 200_000];
    const sent = pattern(sizes[1]!, 2);
    const port = await serve((peer, i) => peer.end(pattern(sizes[i]!, i + 1)));
    const kept = await usePoolUp(port);
    const qd = await connect(port);
    await new Promise((r) => setTimeout(r, 100));
    const first = await libos.wait(libos.pop(qd, 8));
    const head = Buffer.from(first.sga!.segments[0]!);
    // Transferring detaches the whole slab. Bytes read ahead into it would be
    // gone, which is why read-ahead only goes into pool slabs.
    expect(detachable(first.sga!.segments[0]!)).toBe(true);
    const { data } = await popToEnd(qd, [65536]);
    expect(digest(Buffer.concat([head, data]))).toBe(digest(sent));
    expect(kept.length).toBeGreaterThan(1000);
  }, 60_000);
});
