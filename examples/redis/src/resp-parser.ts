// RESP2 request parser: multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
// (`GET k\n`, what nc sends). It reads straight out of the buffers the transport
// hands it and keeps only the unparsed tail. Every limit is checked before any
// allocation the limit protects, and errors carry Redis's own strings.
import { splitInlineArgs } from './inline-args.ts';

export interface ParserLimits {
  /** Longest inline request, and longest `*`/`$` header line, in bytes. */
  inlineMax: number;
  /** Largest bulk string (Redis's proto-max-bulk-len). */
  bulkMax: number;
  /** Most arguments in one multibulk request. */
  multibulkMax: number;
  /** Most bytes one request may hold while it is being read (client-query-buffer-limit). */
  queryMax: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  inlineMax: 64 * 1024,
  bulkMax: 512 * 1024 * 1024,
  multibulkMax: 1024 * 1024,
  queryMax: 1024 * 1024 * 1024,
};

/** Malformed input: the message is what Redis replies (after `-ERR `) before it closes. */
export class ProtocolError extends Error {}

/** A request larger than `queryMax`: Redis closes such a client without a reply. */
export class QueryLimitError extends Error {}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const EMPTY = Buffer.alloc(0) as Latin1Buffer;
/** Node's Buffer has latin1Slice (toString without the encoding lookup); its typings omit it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
/** A tail this small is copied out, so it does not pin the transport's large receive slab. */
const COPY_TAIL_BELOW = 16 * 1024;

/**
 * Parses a request line's decimal integer as Redis's string2ll does: an optional
 * '-', then digits, no leading zeros, no '+', no spaces. NaN when invalid.
 */
function parseDecimal(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len === 0 || len > 20) return Number.NaN;
  let i = start;
  let negative = false;
  if (buf[i] === 45) {
    negative = true;
    i++;
    if (i === end) return Number.NaN;
  }
  if (buf[i] === 48) return i + 1 === end && !negative ? 0 : Number.NaN;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

export class RespParser {
  readonly #limits: ParserLimits;
  /** Unparsed bytes are #buf[#pos..]. */
  #buf: Latin1Buffer = EMPTY;
  #pos = 0;
  /** Buffers received while fewer than #need bytes are available: joined once, not per arrival. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #need = 0;
  /** The multibulk request being read: its arguments so far and how many are still to come. */
  #args: string[] = [];
  #left = 0;
  #argBytes = 0;
  /** Length of the bulk string whose body is being waited for, else -1. */
  #bulk = -1;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes held for requests not yet complete. */
  get bufferedBytes(): number {
    return this.#buf.length - this.#pos + this.#pendingBytes + this.#argBytes;
  }

  /** Adds received bytes. The parser may keep a view of `data` until it has parsed them. */
  feed(data: Buffer): void {
    if (data.length === 0) return;
    const have = this.#buf.length - this.#pos;
    if (have === 0 && this.#pendingBytes === 0) {
      this.#buf = data as Latin1Buffer;
      this.#pos = 0;
    } else {
      this.#pending.push(data);
      this.#pendingBytes += data.length;
      if (have + this.#pendingBytes < this.#need) {
        this.#checkQueryLimit();
        return;
      }
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), ...this.#pending]) as Latin1Buffer;
      this.#pos = 0;
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    this.#checkQueryLimit();
  }

  /**
   * The next complete request's arguments (latin1 strings: one character per
   * byte, so binary-safe), or undefined until more bytes arrive. Throws
   * ProtocolError or QueryLimitError; the connection must then be closed.
   */
  next(): string[] | undefined {
    for (;;) {
      const buf = this.#buf;
      const end = buf.length;
      if (this.#left === 0) {
        if (this.#pos >= end) return this.#idle();
        if (buf[this.#pos] !== STAR) {
          const args = this.#inline();
          if (args === undefined) return this.#idle();
          if (args.length === 0) continue; // an empty line: ignored, as Redis does
          return args;
        }
        const cr = this.#lineEnd('too big mbulk count string');
        if (cr < 0) return this.#idle();
        const count = parseDecimal(buf, this.#pos + 1, cr);
        if (Number.isNaN(count) || count > this.#limits.multibulkMax)
          throw new ProtocolError('Protocol error: invalid multibulk length');
        this.#pos = cr + 2;
        if (count <= 0) continue; // '*0' and '*-1' are empty requests
        this.#left = count;
        this.#args = [];
        this.#argBytes = 0;
      }
      while (this.#left > 0) {
        if (this.#bulk < 0) {
          if (this.#pos >= end) return this.#idle();
          if (buf[this.#pos] !== DOLLAR) {
            const got = String.fromCharCode(buf[this.#pos]!);
            throw new ProtocolError(`Protocol error: expected '$', got '${got}'`);
          }
          const cr = this.#lineEnd('too big bulk count string');
          if (cr < 0) return this.#idle();
          const len = parseDecimal(buf, this.#pos + 1, cr);
          if (Number.isNaN(len) || len < 0 || len > this.#limits.bulkMax)
            throw new ProtocolError('Protocol error: invalid bulk length');
          this.#pos = cr + 2;
          this.#bulk = len;
          this.#argBytes += len;
          this.#checkQueryLimit();
        }
        // Like Redis, the two bytes after the body are skipped, not checked.
        if (end - this.#pos < this.#bulk + 2) {
          this.#need = this.#bulk + 2;
          return this.#idle();
        }
        this.#args.push(buf.latin1Slice(this.#pos, this.#pos + this.#bulk));
        this.#pos += this.#bulk + 2;
        this.#bulk = -1;
        this.#left--;
      }
      const args = this.#args;
      this.#args = [];
      this.#argBytes = 0;
      return args;
    }
  }

  /** The CR ending a header line (`*N` or `$N`), or -1 while the line is incomplete. */
  #lineEnd(tooBig: string): number {
    const buf = this.#buf;
    const cr = buf.indexOf(CR, this.#pos);
    if (cr < 0 || cr + 1 >= buf.length) {
      if (buf.length - this.#pos > this.#limits.inlineMax)
        throw new ProtocolError(`Protocol error: ${tooBig}`);
      this.#need = buf.length - this.#pos + 1;
      return -1;
    }
    return cr;
  }

  #inline(): string[] | undefined {
    const buf = this.#buf;
    const lf = buf.indexOf(LF, this.#pos);
    if (lf < 0) {
      if (buf.length - this.#pos > this.#limits.inlineMax)
        throw new ProtocolError('Protocol error: too big inline request');
      this.#need = buf.length - this.#pos + 1;
      return undefined;
    }
    let lineEnd = lf;
    if (lineEnd > this.#pos && buf[lineEnd - 1] === CR) lineEnd--;
    const line = buf.latin1Slice(this.#pos, lineEnd);
    this.#pos = lf + 1;
    const args = splitInlineArgs(line);
    if (args === undefined) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    return args;
  }

  /** Out of complete requests: keep only the tail, copied if it is small. */
  #idle(): undefined {
    const tail = this.#buf.length - this.#pos;
    if (tail === 0) {
      this.#buf = EMPTY;
      this.#pos = 0;
    } else if (tail < COPY_TAIL_BELOW && this.#buf.buffer.byteLength > tail) {
      const copy = Buffer.allocUnsafeSlow(tail) as Latin1Buffer; // its own ArrayBuffer: runs once
      this.#buf.copy(copy, 0, this.#pos);
      this.#buf = copy;
      this.#pos = 0;
    }
    return undefined;
  }

  #checkQueryLimit(): void {
    if (this.bufferedBytes > this.#limits.queryMax)
      throw new QueryLimitError('request exceeds the query buffer limit');
  }
}
