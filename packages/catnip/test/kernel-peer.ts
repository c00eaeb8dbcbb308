// The Linux kernel as the peer of catnip's stack: Python programs in the peer
// namespace (test/fixtures/peer.py) and the byte pattern both sides generate.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AF_INET, type LibOS, Opcode, SOCK_DGRAM } from '@demi/core';
import type { NetnsPair } from '../../../tools/netns/index.mjs';

const PEER = join(import.meta.dirname, 'fixtures', 'peer.py');
const MIB = 1 << 20;

export interface Peer {
  child: ChildProcess;
  /** Everything printed so far. */
  out(): string;
  /** Resolves with all output when the program exits 0. */
  done: Promise<string>;
}

/** Starts peer.py in the peer namespace; `ready` waits for its listening socket. */
export function startPeer(pair: NetnsPair, args: string[]): Peer & { ready: Promise<void> } {
  const child = pair.spawn('peer', 'python3', [PEER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`peer.py ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
  const ready = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`peer.py ${args.join(' ')} exited before it was ready: ${err}`));
      }
    }, 5);
  });
  // Not every program says ready; a rejection nobody awaits is not an error.
  done.catch(() => {});
  ready.catch(() => {});
  return { child, out: () => out, done, ready };
}

/**
 * Keeps the LibOS polled (DPDK has no wake-up source) until `until` settles:
 * a pop on an idle UDP socket is waited on in short slices.
 */
export async function pumpUntil<T>(libos: LibOS, until: Promise<T>): Promise<T> {
  const qd = libos.socket(AF_INET, SOCK_DGRAM);
  libos.bind(qd, { address: '0.0.0.0', port: 0 });
  const qt = libos.pop(qd);
  let settled = false;
  until.then(
    () => (settled = true),
    () => (settled = true),
  );
  try {
    while (!settled) {
      try {
        const r = await libos.wait(qt, 20);
        if (r.opcode !== Opcode.POP) break;
      } catch {}
    }
    return await until;
  } finally {
    libos.close(qd);
  }
}

/** peer.py's byte stream: a 1 MiB block from SHA-256 in counter mode, MiB k rotated by k*4099. */
export class Pattern {
  readonly #block: Uint8Array;
  #offset = 0;

  constructor(seed: number) {
    const block = new Uint8Array(MIB);
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32BE(seed, 0);
    for (let k = 0, at = 0; at < MIB; k++, at += 32) {
      prefix.writeUInt32BE(k, 4);
      block.set(
        createHash('sha256')
          .update(prefix)
          .digest()
          .subarray(0, Math.min(32, MIB - at)),
        at,
      );
    }
    this.#block = block;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Copies the next `n` bytes of the stream into `out` (from `at`). */
  fill(out: Uint8Array, at = 0, n = out.byteLength - at): void {
    let done = 0;
    while (done < n) {
      const k = Math.floor(this.#offset / MIB);
      const within = this.#offset % MIB;
      const start = (within + k * 4099) % MIB;
      const take = Math.min(n - done, MIB - within, MIB - start);
      out.set(this.#block.subarray(start, start + take), at + done);
      done += take;
      this.#offset += take;
    }
  }

  /** Checks that `data` is the next part of the stream; returns the offset of the first mismatch or -1. */
  check(data: Uint8Array): number {
    const want = new Uint8Array(data.byteLength);
    const base = this.#offset;
    this.fill(want);
    if (Buffer.compare(Buffer.from(data.buffer, data.byteOffset, data.byteLength), want) === 0)
      return -1;
    for (let i = 0; i < data.byteLength; i++) if (data[i] !== want[i]) return base + i;
    return base;
  }
}
