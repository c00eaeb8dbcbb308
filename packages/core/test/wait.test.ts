import { describe, expect, it } from 'vitest';
import { AF_INET, DemiError, ERRNO, Opcode, SOCK_STREAM } from '../src/index.js';
import { MemoryLibOS, MemoryNetwork } from './support/memory-libos.js';

async function connected() {
  const net = new MemoryNetwork();
  const libos = new MemoryLibOS(net);
  const l = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(l, { address: '127.0.0.1', port: 5000 });
  libos.listen(l, 8);
  const acc = libos.accept(l);
  const c = libos.socket(AF_INET, SOCK_STREAM);
  await libos.wait(libos.connect(c, { address: '127.0.0.1', port: 5000 }));
  const s = (await libos.wait(acc)).accepted!.qd;
  return { libos, l, c, s };
}

const data = (text: string) => ({ segments: [new TextEncoder().encode(text)] });

describe('wait semantics', () => {
  it('wait with no timeout waits until the operation completes', async () => {
    const { libos, c, s } = await connected();
    const qt = libos.pop(s);
    let done = false;
    const waiting = libos.wait(qt).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    libos.push(c, data('x'));
    const result = await waiting;
    expect(result).toMatchObject({ opcode: Opcode.POP, qd: s, qt, ret: 0 });
  });

  it('ETIMEDOUT leaves the token valid; success consumes it', async () => {
    const { libos, c, s } = await connected();
    const qt = libos.pop(s);
    await expect(libos.wait(qt, 10)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      errno: ERRNO.ETIMEDOUT,
    });
    expect(() => libos.waitSync(qt, 1)).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    libos.push(c, data('y'));
    expect((await libos.wait(qt, 1000)).opcode).toBe(Opcode.POP);
    await expect(libos.wait(qt)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => libos.waitSync(qt)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a token from another LibOS is EINVAL', async () => {
    const a = await connected();
    const b = await connected();
    const qt = a.libos.pop(a.s);
    await expect(b.libos.wait(qt, 5)).rejects.toThrow(/not issued by this LibOS/);
    await expect(b.libos.wait(-1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(b.libos.wait(1.5)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(b.libos.wait('7' as unknown as number)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('a token already being waited on cannot be waited on again concurrently', async () => {
    const { libos, c, s } = await connected();
    const qt = libos.pop(s);
    const first = libos.wait(qt);
    await expect(libos.wait(qt, 5)).rejects.toThrow(/already being waited on/);
    libos.push(c, data('z'));
    expect((await first).ret).toBe(0);
  });

  it('waitAny resolves {index, result} of the first completion and leaves the others pending', async () => {
    const { libos, c, s } = await connected();
    const pop = libos.pop(s);
    const other = (await connected()).libos;
    void other;
    const push = libos.push(c, data('a'));
    const r = await libos.waitAny([pop, push]);
    expect(r.index).toBe(0);
    expect(r.result.qt).toBe(pop);
    expect((await libos.wait(push)).opcode).toBe(Opcode.PUSH);
    await expect(libos.waitAny([])).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('waitNextN hands out completions of unclaimed tokens, up to n', async () => {
    const { libos, c, s } = await connected();
    const pops = [libos.pop(s), libos.pop(s), libos.pop(s)];
    const next = libos.waitNextN(2, 1000);
    libos.push(c, data('1'));
    libos.push(c, data('2'));
    const first = await next;
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(2);
    expect(first.every((r) => pops.includes(r.qt) || r.opcode === Opcode.PUSH)).toBe(true);
    await expect(libos.waitNextN(0)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('waitNextN hands out completions in the order they completed', async () => {
    const { libos, l, c, s } = await connected();
    const acc = libos.accept(l);
    const c2 = libos.socket(AF_INET, SOCK_STREAM);
    await libos.wait(libos.connect(c2, { address: '127.0.0.1', port: 5000 }));
    const s2 = (await libos.wait(acc)).accepted!.qd;
    const first = libos.pop(s);
    const second = libos.pop(s2);
    libos.waitSync(libos.push(c2, data('b')));
    libos.waitSync(libos.push(c, data('a')));
    const results = await libos.waitNextN(8, 1000);
    expect(results.map((r) => [r.qt, r.qd])).toEqual([
      [second, s2],
      [first, s],
    ]);
  });

  it('waitNextN skips completions already taken by name, however many', async () => {
    const { libos, c, s } = await connected();
    const pops = Array.from({ length: 200 }, () => libos.pop(s));
    for (let i = 0; i < pops.length; i++) libos.waitSync(libos.push(c, data(String(i % 10))));
    // Take three of every four by name; waitNextN must hand out exactly the rest, in order.
    const left = pops.filter((_, i) => i % 4 === 3);
    for (const [i, qt] of pops.entries()) if (i % 4 !== 3) expect(libos.waitSync(qt).qt).toBe(qt);
    const results = await libos.waitNextN(1000, 1000);
    expect(results.map((r) => r.qt)).toEqual(left);
    for (const qt of pops) expect(() => libos.waitSync(qt)).toThrow(/not outstanding/);
    await expect(libos.waitNextN(1, 10)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('waitNextN(n) below what is ready hands out exactly n, then the rest, in order', async () => {
    // Results are counted before they are collected (the array is sized once), with
    // entries taken by name in between and spent entries reused by later tokens.
    const { libos, c, s } = await connected();
    for (let round = 0; round < 3; round++) {
      const pops = Array.from({ length: 40 }, () => libos.pop(s));
      for (let i = 0; i < pops.length; i++) libos.waitSync(libos.push(c, data('x')));
      for (const [i, qt] of pops.entries()) if (i % 3 === 0) libos.waitSync(qt);
      const left = pops.filter((_, i) => i % 3 !== 0);
      const a = await libos.waitNextN(5, 1000);
      const b = await libos.waitNextN(1000, 1000);
      expect(a.length).toBe(5);
      expect([...a, ...b].map((r) => r.qt)).toEqual(left);
      expect(b.every((r) => r !== undefined)).toBe(true);
    }
  });

  it('waitNextN hands out at most 64 results a call, in completion order, whatever n asks', async () => {
    const { libos, c, s } = await connected();
    const pops = Array.from({ length: 150 }, () => libos.pop(s));
    for (let i = 0; i < pops.length; i++) libos.waitSync(libos.push(c, data('x')));
    const batches: number[][] = [];
    for (let taken = 0; taken < pops.length; ) {
      const batch = (await libos.waitNextN(256, 1000)).map((r) => r.qt);
      batches.push(batch);
      taken += batch.length;
    }
    expect(batches.map((b) => b.length)).toEqual([64, 64, 22]);
    expect(batches.flat()).toEqual(pops);
    // A waitNextN that sleeps is capped the same way once completions arrive together.
    const more = Array.from({ length: 100 }, () => libos.pop(s));
    const next = libos.waitNextN(256, 1000);
    for (let i = 0; i < more.length; i++) libos.push(c, data('y'));
    const first = await next;
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(64);
    const popped = first.filter((r) => r.opcode === Opcode.POP).map((r) => r.qt);
    while (popped.length < more.length) {
      const batch = await libos.waitNextN(256, 1000);
      expect(batch.length).toBeLessThanOrEqual(64);
      for (const r of batch) if (r.opcode === Opcode.POP) popped.push(r.qt);
    }
    expect(popped).toEqual(more);
  });

  it('a waitNextN woken before the previous one has resolved gets its own completion', async () => {
    // Both sleep and are woken within one synchronous run, before any microtask.
    const { libos, c, s } = await connected();
    const [pop1, pop2] = [libos.pop(s), libos.pop(s)];
    const first = libos.waitNextN(8, 1000);
    libos.waitSync(libos.push(c, data('a')));
    const second = libos.waitNextN(8, 1000);
    libos.waitSync(libos.push(c, data('b')));
    expect((await first).map((r) => r.qt)).toEqual([pop1]);
    expect((await second).map((r) => r.qt)).toEqual([pop2]);
    // The shared waiter is free again: a third sleeps, times out, and a fourth works.
    await expect(libos.waitNextN(1, 10)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const pop3 = libos.pop(s);
    const fourth = libos.waitNextN(8, 1000);
    libos.waitSync(libos.push(c, data('c')));
    expect((await fourth).map((r) => r.qt)).toEqual([pop3]);
  });

  it('operations pending on a closed socket complete FAILED with ECANCELED', async () => {
    const { libos, s } = await connected();
    const qt = libos.pop(s);
    libos.close(s);
    expect(await libos.wait(qt)).toMatchObject({ opcode: Opcode.FAILED, ret: ERRNO.ECANCELED });
  });

  it('shutdown cancels everything and later calls are EBADF', async () => {
    const { libos, s } = await connected();
    const qt = libos.pop(s);
    const waiting = libos.wait(qt);
    await libos.shutdown();
    expect(await waiting).toMatchObject({ opcode: Opcode.FAILED, ret: ERRNO.ECANCELED });
    expect(() => libos.socket(AF_INET, SOCK_STREAM)).toThrow(DemiError);
    expect(() => libos.pop(s)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await libos.shutdown();
  });

  // Each kind of async wait, in a loop whose every wait is ready at once: the
  // event loop must still turn (a timer fires) long before the loop's end.
  for (const kind of ['wait', 'waitAny', 'waitNextN'] as const) {
    it(`a loop of ready ${kind} calls still lets timers run`, async () => {
      const { libos, c, s } = await connected();
      let fired = false;
      const timer = setTimeout(() => {
        fired = true;
      }, 1);
      const until = performance.now() + 1_000;
      while (!fired && performance.now() < until) {
        const qt = libos.push(c, data('x'));
        if (kind === 'wait') await libos.wait(qt);
        else if (kind === 'waitAny') await libos.waitAny([qt]);
        else expect((await libos.waitNextN(1))[0]!.qt).toBe(qt);
      }
      clearTimeout(timer);
      expect(fired).toBe(true);
      await libos.shutdown();
      void s;
    });
  }

  it('sgafree rejects double free and non-sgas', () => {
    const libos = new MemoryLibOS(new MemoryNetwork());
    const sga = libos.sgaalloc(128);
    expect(sga.segments[0]!.byteLength).toBe(128);
    libos.sgafree(sga);
    expect(() => libos.sgafree(sga)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => libos.sgafree({} as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => libos.sgaalloc(-1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('pipes on a socket-only LibOS are ENOTSUP; sockets on a pipe-only LibOS are ENOTSUP', () => {
    const sockets = new MemoryLibOS(new MemoryNetwork(), ['tcp']);
    expect(() => sockets.createPipe('p')).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    const pipes = new MemoryLibOS(new MemoryNetwork(), ['pipe']);
    expect(() => pipes.socket(AF_INET, SOCK_STREAM)).toThrow(
      expect.objectContaining({ code: 'ENOTSUP' }),
    );
  });
});
