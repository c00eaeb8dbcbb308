/**
 * Where the stack's randomness comes from (ISN secret, ephemeral ports, fault
 * injection). Tests pass a seeded source so every run is the same run.
 */
export interface RandomSource {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}

/** sfc32: small, fast, good statistical quality; deterministic from its seed. */
export class SeededRandom implements RandomSource {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }
}

/** Cryptographically random, for production: ISNs must not be guessable. */
export class CryptoRandom implements RandomSource {
  #pool = new Uint32Array(256);
  #at = 256;

  nextU32(): number {
    if (this.#at >= this.#pool.length) {
      globalThis.crypto.getRandomValues(this.#pool);
      this.#at = 0;
    }
    return this.#pool[this.#at++]!;
  }
}

/** A float in [0, 1) from any source. */
export function randomFloat(random: RandomSource): number {
  return random.nextU32() / 4294967296;
}

/** An integer in [0, n). */
export function randomBelow(random: RandomSource, n: number): number {
  return Math.floor(randomFloat(random) * n);
}
