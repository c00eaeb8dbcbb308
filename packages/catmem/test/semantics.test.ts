import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AF_INET, ERRNO, init, Opcode, type QResult, SOCK_STREAM } from '@demi/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catmem, createLibOS } from '../src/index.js';
import { native } from '../src/native.js';
import { uniqueName } from './support/child.js';

const bytes = (r: QResult): Uint8Array => r.sga!.segments[0] ?? new Uint8Array(0);
const seq = (n: number, seed = 0) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const sga = (data: Uint8Array) => ({ segments: [data] });

describe('catmem pipes in one process', () => {
  let a: Catmem;
  let b: Catmem;
  let name: string;
  beforeEach(() => {
    a = new Catmem({ ringSize: 4096 });
    b = new Catmem();
    name = uniqueName('sem');
  });
  afterEach(async () => {
    await a.shutdown();
    await b.shutdown();
    expect(readdirSync('/dev/shm').filter((f) => f.includes(name))).toEqual([]);
  });

  it('refuses a second creator (EEXIST), a third end (EBUSY) and absent names (ENOENT)', () => {
    a.createPipe(name);
    expect(() => b.createPipe(name)).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'createPipe' }),
    );
    b.openPipe(name);
    const c = new Catmem();
    expect(() => c.openPipe(name)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(() => c.openPipe(`${name}-none`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    void c.shutdown();
  });

  it('checks names natively too: EINVAL for "/", empty and over-long names', () => {
    const n = native();
    const ctx = n.newContext(() => {});
    for (const bad of ['a/b', '', 'x'.repeat(201), '..\0', 'sp ace', 'ü']) {
      expect(() => n.create(ctx, bad, 4096)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => n.open(ctx, bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(() => a.createPipe('a/b')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    n.destroyContext(ctx);
  });

  it("keeps message boundaries and takes the creator's ring size", () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    expect(b.pipeInfo(qb)).toEqual({ name, side: 'opener', ringSize: 4096, maxMessage: 2040 });
    expect(a.pipeInfo(qa).side).toBe('creator');
    for (const n of [1, 100, 1000]) expect(a.waitSync(a.push(qa, sga(seq(n, n)))).ret).toBe(0);
    for (const n of [1, 100, 1000]) expect(bytes(b.waitSync(b.pop(qb)))).toEqual(seq(n, n));
  });

  it('splits a push longer than maxMessage and hands a record over in parts to smaller pops', async () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    const data = seq(5000);
    // Pending pushes move while a wait on their LibOS is outstanding.
    const pushed = a.wait(a.push(qa, sga(data)), 5000);
    const got: Uint8Array[] = [];
    for (let total = 0; total < 5000; ) {
      const r = await b.wait(b.pop(qb), 5000);
      got.push(bytes(r));
      total += bytes(r).byteLength;
    }
    expect(got.map((g) => g.byteLength)).toEqual([2040, 2040, 920]);
    expect(Buffer.concat(got)).toEqual(Buffer.from(data));
    expect((await pushed).ret).toBe(0);
    a.waitSync(a.push(qa, sga(seq(100))));
    expect(bytes(b.waitSync(b.pop(qb, 30)))).toEqual(seq(100).subarray(0, 30));
    expect(bytes(b.waitSync(b.pop(qb, 1000)))).toEqual(seq(100).subarray(30));
  });

  it('holds pushes while the ring is full and completes them in order as the peer pops', async () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    const qts = Array.from({ length: 10 }, (_, i) => a.push(qa, sga(seq(1000, i))));
    // 4096-byte ring: three 1008-byte records fit, the rest wait.
    await expect(a.wait(qts[9]!, 50)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const pushed = Promise.all(qts.map((qt) => a.wait(qt, 5000)));
    const pops = Array.from({ length: 10 }, () => b.pop(qb));
    for (let i = 0; i < 10; i++) expect(bytes(await b.wait(pops[i]!, 5000))).toEqual(seq(1000, i));
    expect((await pushed).map((r) => r.opcode)).toEqual(Array(10).fill(Opcode.PUSH));
  });

  it('delivers everything before end of file, then EOF to every pop; pushes to a closed peer fail EPIPE', async () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    b.waitSync(b.push(qb, sga(seq(10))));
    a.waitSync(a.push(qa, sga(seq(20))));
    a.close(qa);
    expect(bytes(b.waitSync(b.pop(qb)))).toEqual(seq(20));
    for (let i = 0; i < 2; i++) {
      const eof = await b.wait(b.pop(qb), 5000);
      expect(eof.opcode).toBe(Opcode.POP);
      expect(eof.sga!.segments).toHaveLength(0);
    }
    const r = b.waitSync(b.push(qb, sga(seq(1))));
    expect(r.opcode).toBe(Opcode.FAILED);
    expect(r.ret).toBe(ERRNO.EPIPE);
    b.close(qb);
  });

  it('close: pending operations complete ECANCELED, further calls are EBADF', async () => {
    const qa = a.createPipe(name);
    const pending = a.pop(qa);
    a.close(qa);
    const r = await a.wait(pending, 5000);
    expect(r.opcode).toBe(Opcode.FAILED);
    expect(r.ret).toBe(ERRNO.ECANCELED);
    expect(() => a.close(qa)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => a.push(qa, sga(seq(1)))).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => a.pop(qa)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('asyncClose waits for pushes still queued, then the peer reads them all and EOF', async () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    for (let i = 0; i < 6; i++) a.push(qa, sga(seq(1500, i)));
    const closing = a.wait(a.asyncClose(qa), 5000);
    expect(() => a.push(qa, sga(seq(1)))).toThrow(expect.objectContaining({ code: 'EBADF' }));
    for (let i = 0; i < 6; i++) expect(bytes(await b.wait(b.pop(qb), 5000))).toEqual(seq(1500, i));
    expect((await closing).opcode).toBe(Opcode.CLOSE);
    expect((await b.wait(b.pop(qb), 5000)).sga!.segments).toHaveLength(0);
    b.close(qb);
  });

  it('refuses an empty push (EINVAL) and sends one message for a multi-segment push', () => {
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    expect(() => a.push(qa, { segments: [] })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => a.push(qa, sga(new Uint8Array(0)))).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    a.waitSync(a.push(qa, { segments: [seq(3, 1), seq(4, 2)] }));
    expect(bytes(b.waitSync(b.pop(qb)))).toEqual(new Uint8Array([...seq(3, 1), ...seq(4, 2)]));
    expect(() => b.waitSync(b.pop(qb), 20)).toThrow(/ETIMEDOUT/);
  });

  it('waitAny and waitNextN across several pipes', async () => {
    const names = [0, 1, 2].map((i) => `${name}-${i}`);
    const ends = names.map((n) => [a.createPipe(n), b.openPipe(n)] as const);
    const pops = ends.map(([, qb]) => b.pop(qb));
    a.push(ends[2]![0], sga(seq(5)));
    const any = await b.waitAny(pops, 5000);
    expect(any.index).toBe(2);
    a.push(ends[0]![0], sga(seq(6)));
    a.push(ends[1]![0], sga(seq(7)));
    const got: QResult[] = [];
    while (got.length < 2) got.push(...(await b.waitNextN(2, 5000)));
    expect(got.map((r) => bytes(r).byteLength).sort()).toEqual([6, 7]);
  });

  it('socket calls are ENOTSUP; shutdown cancels what is pending and closes every pipe', async () => {
    expect(() => a.socket(AF_INET, SOCK_STREAM)).toThrow(
      expect.objectContaining({ code: 'ENOTSUP' }),
    );
    expect(() => a.bind(1, { address: '127.0.0.1', port: 1 })).toThrow(
      expect.objectContaining({ code: 'ENOTSUP' }),
    );
    const qa = a.createPipe(name);
    const qb = b.openPipe(name);
    const pending = a.pop(qa);
    const waiting = a.wait(pending, 5000);
    await a.shutdown();
    expect((await waiting).ret).toBe(ERRNO.ECANCELED);
    expect(() => a.createPipe(`${name}-x`)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect((await b.wait(b.pop(qb), 5000)).sga!.segments).toHaveLength(0);
  });
});

describe('configuration', () => {
  it('reads catmem.ring_size and catmem.directory and validates them', async () => {
    expect(() =>
      createLibOS({ config: { catmem: { ring_size: 1000 } }, configSource: 'test', env: {} }),
    ).toThrow(
      expect.objectContaining({
        code: 'EINVAL',
        message: expect.stringContaining('catmem.ring_size'),
      }),
    );
    for (const ringSize of [2048, 3 * 4096, 512 * 1024 * 1024, 1.5, -4096]) {
      expect(() => new Catmem({ ringSize })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    const libos = await init({ libos: 'catmem', config: { catmem: { ring_size: 8192 } }, env: {} });
    // init() loads the built package, a different module instance than ../src.
    expect(libos.name).toBe('catmem');
    expect((libos as Catmem).ringSize).toBe(8192);
    expect([...libos.capabilities].sort()).toEqual(['multiprocess', 'pipe']);
    await libos.shutdown();
  });

  it('keeps pipes in a configured directory instead of /dev/shm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catmem-dir-'));
    try {
      const a = createLibOS({
        config: { catmem: { directory: dir } },
        configSource: 'test',
        env: {},
      });
      const b = new Catmem({ directory: dir });
      const name = uniqueName('dir');
      const qa = a.createPipe(name);
      const qb = b.openPipe(name);
      expect(readdirSync(dir)).toEqual([`demi-catmem.${name}`]);
      expect(readdirSync('/dev/shm').filter((f) => f.includes(name))).toEqual([]);
      a.waitSync(a.push(qa, sga(seq(9))));
      expect(bytes(b.waitSync(b.pop(qb)))).toEqual(seq(9));
      a.close(qa);
      b.close(qb);
      expect(readdirSync(dir)).toEqual([]);
      await a.shutdown();
      await b.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('waiting', () => {
  it('an idle async wait sleeps instead of spinning', async () => {
    const a = new Catmem();
    const b = new Catmem();
    const name = uniqueName('idle');
    a.createPipe(name);
    const qb = b.openPipe(name);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await expect(b.wait(b.pop(qb), 1000)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const used = process.cpuUsage(cpu);
    const wall = performance.now() - start;
    // A core spinning for the whole second would use ~1000 ms.
    expect((used.user + used.system) / 1000).toBeLessThan(wall * 0.25);
    await a.shutdown();
    await b.shutdown();
  });
});
