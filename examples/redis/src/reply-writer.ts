// RESP2 replies, written into a large slab. The replies to one read's worth of
// requests are taken as one view and handed to the transport in one write, so a
// pipelined burst costs one push. Taken views are never written again (the slab
// is replaced when full, like Node's Buffer pool), so a transport may keep them
// until its write completes. One writer serves every connection of a server:
// a read's requests run to completion before the next read's begin.

const SLAB_SIZE = 256 * 1024;

/** Node's Buffer has latin1Write (write without the encoding lookup); its typings omit it. */
type Slab = Buffer & { latin1Write(text: string, offset: number): number };
const newSlab = (size: number): Slab => Buffer.allocUnsafeSlow(size) as Slab;
const CRLF = '\r\n';
/** Headers of small bulks and small integers, made once: no string per reply. */
const CACHED = 1024;
const BULK_HEADERS = Array.from({ length: CACHED }, (_, n) => `$${n}\r\n`);
const INTEGERS = Array.from({ length: CACHED }, (_, n) => `:${n}\r\n`);

export class ReplyWriter {
  #slab = newSlab(SLAB_SIZE);
  #start = 0;
  #pos = 0;

  /** Bytes written since the last take(). */
  get length(): number {
    return this.#pos - this.#start;
  }

  /** The replies written since the last take(), as a view the writer never touches again. */
  take(): Buffer {
    const view = this.#slab.subarray(this.#start, this.#pos);
    this.#start = this.#pos;
    return view;
  }

  /** Forgets what was written since the last take() (the connection went away). */
  discard(): void {
    this.#pos = this.#start;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    const used = this.#pos - this.#start;
    const next = newSlab(Math.max(SLAB_SIZE, (used + n) * 2));
    this.#slab.copy(next, 0, this.#start, this.#pos);
    this.#slab = next;
    this.#start = 0;
    this.#pos = used;
  }

  /** Raw protocol text (latin1: one byte per character). */
  raw(text: string): void {
    this.#reserve(text.length);
    this.#pos += this.#slab.latin1Write(text, this.#pos);
  }

  /** Raw protocol bytes, e.g. a reply prepared once. */
  bytes(data: Buffer): void {
    this.#reserve(data.length);
    this.#pos += data.copy(this.#slab, this.#pos);
  }

  simple(text: string): void {
    this.raw(`+${text}${CRLF}`);
  }

  /** An error: `text` starts with its code (ERR, WRONGTYPE); newlines become spaces, as in Redis. */
  error(text: string): void {
    this.raw(`-${text.replace(/[\r\n]/g, ' ')}${CRLF}`);
  }

  integer(n: number | bigint): void {
    this.raw(typeof n === 'number' && n >= 0 && n < CACHED ? INTEGERS[n]! : `:${n}${CRLF}`);
  }

  bulk(value: string): void {
    this.#reserve(value.length + 16);
    let p = this.#pos;
    const slab = this.#slab;
    const len = value.length;
    p += slab.latin1Write(len < CACHED ? BULK_HEADERS[len]! : `$${len}${CRLF}`, p);
    p += slab.latin1Write(value, p);
    slab[p++] = 13;
    slab[p++] = 10;
    this.#pos = p;
  }

  /** A bulk or nil. */
  bulkOrNil(value: string | undefined): void {
    if (value === undefined) this.nil();
    else this.bulk(value);
  }

  nil(): void {
    this.raw('$-1\r\n');
  }

  nilArray(): void {
    this.raw('*-1\r\n');
  }

  arrayLength(n: number): void {
    this.raw(`*${n}${CRLF}`);
  }

  array(values: readonly string[]): void {
    this.arrayLength(values.length);
    for (const v of values) this.bulk(v);
  }
}
