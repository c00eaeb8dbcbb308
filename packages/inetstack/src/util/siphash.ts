/**
 * SipHash-2-4 (Aumasson and Bernstein), the keyed hash Linux uses for SYN
 * cookies: fast on short inputs, unpredictable without the key. 64-bit lanes
 * are kept as 32-bit halves (no BigInt on the per-packet path). Returns the low
 * 32 bits of the 64-bit result.
 */
export class SipHash {
  // v0..v3 as [hi, lo] pairs in one array: v0 = s[0],s[1]; v1 = s[2],s[3]; ...
  readonly #s = new Uint32Array(8);
  readonly #k = new Uint32Array(4);

  /** `key`: 16 bytes. */
  constructor(key: Uint8Array) {
    if (key.byteLength !== 16) throw new RangeError('SipHash needs a 16-byte key');
    const k = new DataView(key.buffer, key.byteOffset, 16);
    // Little-endian 64-bit k0, k1 as (hi, lo).
    this.#k[0] = k.getUint32(4, true);
    this.#k[1] = k.getUint32(0, true);
    this.#k[2] = k.getUint32(12, true);
    this.#k[3] = k.getUint32(8, true);
  }

  /** Low 32 bits of SipHash-2-4 of data[0, length). */
  hash(data: Uint8Array, length = data.byteLength): number {
    const s = this.#s;
    const k = this.#k;
    s[0] = k[0]! ^ 0x736f6d65;
    s[1] = k[1]! ^ 0x70736575;
    s[2] = k[2]! ^ 0x646f7261;
    s[3] = k[3]! ^ 0x6e646f6d;
    s[4] = k[0]! ^ 0x6c796765;
    s[5] = k[1]! ^ 0x6e657261;
    s[6] = k[2]! ^ 0x74656462;
    s[7] = k[3]! ^ 0x79746573;
    const full = length & ~7;
    for (let i = 0; i < full; i += 8) {
      const lo =
        (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
      const hi =
        (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
      this.#compress(hi, lo);
    }
    // Last block: the remaining bytes and the length in the top byte.
    let lo = 0;
    let hi = (length & 0xff) << 24;
    for (let i = full; i < length; i++) {
      const b = data[i]!;
      const at = i - full;
      if (at < 4) lo |= b << (8 * at);
      else hi |= b << (8 * (at - 4));
    }
    this.#compress(hi >>> 0, lo >>> 0);
    s[5] = (s[5]! ^ 0xff) >>> 0;
    this.#round();
    this.#round();
    this.#round();
    this.#round();
    return (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
  }

  #compress(hi: number, lo: number): void {
    const s = this.#s;
    s[6] = s[6]! ^ hi;
    s[7] = s[7]! ^ lo;
    this.#round();
    this.#round();
    s[0] = s[0]! ^ hi;
    s[1] = s[1]! ^ lo;
  }

  #round(): void {
    const s = this.#s;
    // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
    add(s, 0, 2);
    rotl(s, 2, 13);
    xor(s, 2, 0);
    swap(s, 0);
    // v2 += v3; v3 <<<= 16; v3 ^= v2
    add(s, 4, 6);
    rotl(s, 6, 16);
    xor(s, 6, 4);
    // v0 += v3; v3 <<<= 21; v3 ^= v0
    add(s, 0, 6);
    rotl(s, 6, 21);
    xor(s, 6, 0);
    // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
    add(s, 4, 2);
    rotl(s, 2, 17);
    xor(s, 2, 4);
    swap(s, 4);
  }
}

/** s[a] += s[b] (64-bit, as hi at a and lo at a+1). */
function add(s: Uint32Array, a: number, b: number): void {
  const lo = s[a + 1]! + s[b + 1]!;
  s[a] = s[a]! + s[b]! + (lo > 0xffffffff ? 1 : 0);
  s[a + 1] = lo;
}

function xor(s: Uint32Array, a: number, b: number): void {
  s[a] = s[a]! ^ s[b]!;
  s[a + 1] = s[a + 1]! ^ s[b + 1]!;
}

/** Rotates the 64-bit lane at a left by n (0 < n < 32). */
function rotl(s: Uint32Array, a: number, n: number): void {
  const hi = s[a]!;
  const lo = s[a + 1]!;
  s[a] = (hi << n) | (lo >>> (32 - n));
  s[a + 1] = (lo << n) | (hi >>> (32 - n));
}

/** Rotation by 32: the halves trade places. */
function swap(s: Uint32Array, a: number): void {
  const hi = s[a]!;
  s[a] = s[a + 1]!;
  s[a + 1] = hi;
}
