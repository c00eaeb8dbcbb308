import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, QueryLimitError, RespParser } from '../src/resp-parser.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function parseAll(parser: RespParser): string[][] {
  const out: string[][] = [];
  for (let args = parser.next(); args !== undefined; args = parser.next()) out.push(args);
  return out;
}

function errorOf(input: string, limits = {}): string {
  const p = new RespParser(limits);
  try {
    p.feed(b(input));
    parseAll(p);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

const frame = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;

describe('RESP parser', () => {
  it('parses pipelined multibulk requests in one buffer', () => {
    const p = new RespParser();
    p.feed(b(frame('SET', 'k', 'v') + frame('GET', 'k') + frame('PING')));
    expect(parseAll(p)).toEqual([['SET', 'k', 'v'], ['GET', 'k'], ['PING']]);
    expect(p.bufferedBytes).toBe(0);
  });

  it('parses a request split at every byte boundary', () => {
    const input = b(frame('SET', 'key', 'a\r\nbinary\x00value') + 'PING\r\n');
    for (let cut = 1; cut < input.length; cut++) {
      const p = new RespParser();
      p.feed(input.subarray(0, cut));
      const first = parseAll(p);
      p.feed(input.subarray(cut));
      expect([...first, ...parseAll(p)]).toEqual([
        ['SET', 'key', 'a\r\nbinary\x00value'],
        ['PING'],
      ]);
    }
  });

  it('parses a request fed one byte at a time', () => {
    const input = b(frame('MSET', 'a', '1', 'b', '2') + frame('GET', 'a'));
    const p = new RespParser();
    const got: string[][] = [];
    for (const byte of input) {
      p.feed(Buffer.from([byte]));
      got.push(...parseAll(p));
    }
    expect(got).toEqual([
      ['MSET', 'a', '1', 'b', '2'],
      ['GET', 'a'],
    ]);
  });

  it('keeps binary bytes as latin1 characters', () => {
    const p = new RespParser();
    p.feed(Buffer.concat([b('*1\r\n$3\r\n'), Buffer.from([0, 0xff, 0x80]), b('\r\n')]));
    expect(Buffer.from(p.next()![0]!, 'latin1')).toEqual(Buffer.from([0, 0xff, 0x80]));
  });

  it('parses inline requests with quotes, and ignores empty lines', () => {
    const p = new RespParser();
    p.feed(b('\r\n\nSET "a b" \'c\\\'d\' "\\x41\\n"\r\nPING\n'));
    expect(parseAll(p)).toEqual([['SET', 'a b', "c'd", 'A\n'], ['PING']]);
  });

  it('treats *0 and *-1 as empty requests', () => {
    const p = new RespParser();
    p.feed(b('*0\r\n*-1\r\nPING\r\n'));
    expect(parseAll(p)).toEqual([['PING']]);
  });

  it("answers malformed input with Redis's protocol errors", () => {
    expect(errorOf('*2\r\n$3\r\nGET\r\n+a\r\n')).toBe("Protocol error: expected '$', got '+'");
    expect(errorOf('*abc\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*1\r\n$-1\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$x\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('set "a b\r\n')).toBe('Protocol error: unbalanced quotes in request');
    expect(errorOf('set "a"b\r\n')).toBe('Protocol error: unbalanced quotes in request');
  });

  it('refuses sizes past the limits before allocating', () => {
    expect(errorOf('*1\r\n$536870913\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1048577\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*1048576\r\n')).toBe('no error');
    expect(errorOf('x'.repeat(64 * 1024 + 1))).toBe('Protocol error: too big inline request');
    expect(errorOf(`*${'1'.repeat(64 * 1024 + 1)}`)).toBe(
      'Protocol error: too big mbulk count string',
    );
    expect(errorOf(`*1\r\n$${'1'.repeat(64 * 1024 + 1)}`)).toBe(
      'Protocol error: too big bulk count string',
    );
    // A declared bulk of 512 MB is accepted, and nothing near that size is allocated for it.
    const p = new RespParser();
    const before = process.memoryUsage().arrayBuffers;
    p.feed(b('*1\r\n$536870912\r\nabc'));
    expect(p.next()).toBeUndefined();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('closes a request that would exceed the query buffer limit', () => {
    const p = new RespParser({ queryMax: 1000 });
    expect(() => {
      p.feed(b('*1\r\n$5000\r\n'));
      p.next();
    }).toThrow(QueryLimitError);
  });

  it('joins a large bulk arriving in many pieces once, not per piece', () => {
    const value = 'v'.repeat(1 << 20);
    const input = b(frame('SET', 'k', value));
    const p = new RespParser();
    let parsed: string[] | undefined;
    for (let off = 0; off < input.length; off += 1000) {
      p.feed(input.subarray(off, off + 1000));
      parsed = p.next() ?? parsed;
    }
    expect(parsed?.[2]).toBe(value);
  });
});

describe('RESP parser fuzzing', () => {
  const limits = { inlineMax: 512, bulkMax: 4096, multibulkMax: 64, queryMax: 16 * 1024 };
  // Nothing the parser holds may exceed the query limit plus one received chunk.
  const bound = limits.queryMax + 2048;

  function feedAll(chunks: Uint8Array[]): void {
    const p = new RespParser(limits);
    try {
      for (const chunk of chunks) {
        p.feed(Buffer.from(chunk));
        while (p.next() !== undefined) {}
        expect(p.bufferedBytes).toBeLessThanOrEqual(bound);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError) && !(err instanceof QueryLimitError)) throw err;
      if (err instanceof ProtocolError) expect(err.message).toMatch(/^Protocol error: /);
    }
  }

  it('survives random bytes with bounded memory', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2048 }), { maxLength: 20 }), (chunks) =>
        feedAll(chunks),
      ),
      { numRuns: 500 },
    );
  });

  it('survives mutated valid requests with bounded memory', () => {
    const request = fc
      .array(fc.string({ unit: 'binary-ascii', maxLength: 40 }), { minLength: 1, maxLength: 6 })
      .map((args) => frame(...args));
    const mutation = fc.record({
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      kind: fc.constantFrom('replace', 'insert', 'delete', 'digit'),
    });
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 10 }),
        fc.array(mutation, { maxLength: 5 }),
        fc.array(fc.nat({ max: 4096 }), { maxLength: 8 }),
        (requests, mutations, cuts) => {
          const bytes = [...b(requests.join(''))];
          for (const m of mutations) {
            const at = m.at % Math.max(1, bytes.length);
            if (m.kind === 'replace') bytes[at] = m.byte;
            else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else if (m.kind === 'delete') bytes.splice(at, 1);
            else bytes.splice(at, 0, ...b(String(m.byte * 1e6)));
          }
          const input = Uint8Array.from(bytes);
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort(
            (x, y) => x - y,
          );
          const chunks: Uint8Array[] = [];
          let last = 0;
          for (const c of [...points, input.length]) {
            chunks.push(input.subarray(last, c));
            last = c;
          }
          feedAll(chunks);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
