import { createHash } from 'node:crypto';
import type { RandomSource } from '../util/random.js';

/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), M a
 * 4-microsecond clock, F a keyed hash. The same hash also yields the
 * per-connection timestamp offset RFC 7323 recommends. The secret comes from
 * the stack's random source, so a seeded source gives reproducible ISNs.
 */
export class IsnGenerator {
  readonly #secret: Buffer;
  readonly #tuple = Buffer.alloc(12);

  constructor(random: RandomSource) {
    this.#secret = Buffer.alloc(16);
    for (let i = 0; i < 4; i++) this.#secret.writeUInt32BE(random.nextU32(), 4 * i);
  }

  /** [isn, timestamp offset] for a connection at time `nowMs`. */
  generate(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    nowMs: number,
  ): [number, number] {
    const t = this.#tuple;
    t.writeUInt32BE(localIp >>> 0, 0);
    t.writeUInt16BE(localPort, 4);
    t.writeUInt32BE(remoteIp >>> 0, 6);
    t.writeUInt16BE(remotePort, 10);
    const digest = createHash('sha256').update(this.#secret).update(t).digest();
    const m = Math.floor(nowMs * 250) % 0x100000000;
    return [(m + digest.readUInt32BE(0)) >>> 0, digest.readUInt32BE(4)];
  }
}
