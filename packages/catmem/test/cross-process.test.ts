import { readdirSync } from 'node:fs';
import { ERRNO, Opcode } from '@demi/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Catmem } from '../src/index.js';
import { fixture, uniqueName } from './support/child.js';

const litter = (prefix: string) =>
  readdirSync('/dev/shm').filter((f) => f.startsWith(`demi-catmem.${prefix}`));

describe('two Node processes', () => {
  let libos: Catmem | undefined;
  afterEach(async () => {
    await libos?.shutdown();
    libos = undefined;
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`128 ping-pong rounds of 64 bytes (${mode} echo)`, async () => {
      const name = uniqueName(`pp-${mode}`);
      libos = new Catmem();
      const qd = libos.createPipe(name);
      const echo = fixture('echo.mjs', name, 'open', mode);
      expect(await echo.line()).toBe('ready');
      for (let i = 0; i < 128; i++) {
        const msg = new Uint8Array(64).map((_, k) => (i * 7 + k) & 255);
        const pushed =
          mode === 'sync'
            ? libos.waitSync(libos.push(qd, { segments: [msg] }), 10_000)
            : await libos.wait(libos.push(qd, { segments: [msg] }), 10_000);
        expect(pushed.ret).toBe(0);
        const r =
          mode === 'sync'
            ? libos.waitSync(libos.pop(qd), 10_000)
            : await libos.wait(libos.pop(qd), 10_000);
        expect(r.opcode).toBe(Opcode.POP);
        expect(r.sga!.segments[0]).toEqual(msg);
      }
      libos.close(qd);
      expect(await echo.line()).toBe('echoed 128');
      expect((await echo.exited).code).toBe(0);
      expect(litter(name)).toEqual([]);
    });
  }

  it('streams 1 GiB byte-exact (async producer, waitSync consumer)', async () => {
    const name = uniqueName('gib');
    const consumer = fixture('stream-consumer.mjs', name);
    expect(await consumer.line()).toBe('ready');
    const producer = fixture('stream-producer.mjs', name, String(1024 ** 3));
    const sent = JSON.parse(await producer.line());
    const got = JSON.parse(await consumer.line());
    expect((await producer.exited).code).toBe(0);
    expect((await consumer.exited).code).toBe(0);
    expect(sent.bytes).toBe(1024 ** 3);
    expect(got).toEqual({
      bytes: sent.bytes,
      messages: sent.messages,
      inOrder: true,
      sha256: sent.sha256,
    });
    expect(litter(name)).toEqual([]);
  }, 180_000);

  it('opens and closes 1000 pipes without leaking fds, mappings or /dev/shm objects', async () => {
    const prefix = uniqueName('oc');
    const child = fixture('open-close.mjs', prefix, '1000');
    const line = await child.line();
    expect((await child.exited).code).toBe(0);
    const { before, after, down } = JSON.parse(line);
    expect(after).toEqual(before);
    expect(down.maps).toBe(0);
    expect(down.shm).toBe(0);
    expect(litter(prefix)).toEqual([]);
  }, 120_000);
});

describe('a peer killed with SIGKILL', () => {
  let libos: Catmem | undefined;
  afterEach(async () => {
    await libos?.shutdown();
    libos = undefined;
  });

  it("fails the survivor's pending async pop with ECONNRESET", async () => {
    const name = uniqueName('kill-async');
    const victim = fixture('victim.mjs', name, 'create', 'never');
    expect(await victim.line()).toBe('ready');
    libos = new Catmem();
    const qd = libos.openPipe(name);
    const qt = libos.pop(qd);
    const waiting = libos.wait(qt, 10_000);
    const killedAt = performance.now();
    victim.proc.kill('SIGKILL');
    const r = await waiting;
    console.info(`async pop failed ${Math.round(performance.now() - killedAt)} ms after SIGKILL`);
    expect(r.opcode).toBe(Opcode.FAILED);
    expect(r.ret).toBe(ERRNO.ECONNRESET);
    expect((await victim.exited).signal).toBe('SIGKILL');
    // Later pushes fail too; closing the survivor removes the pipe.
    expect(libos.waitSync(libos.push(qd, { segments: [new Uint8Array(4096)] }), 10_000).ret).toBe(
      ERRNO.ECONNRESET,
    );
    libos.close(qd);
    expect(litter(name)).toEqual([]);
  });

  it('fails a waitSync pop with ECONNRESET after delivering what was sent before death', async () => {
    const name = uniqueName('kill-sync');
    libos = new Catmem();
    const qd = libos.createPipe(name);
    const victim = fixture('victim.mjs', name, 'open', '300', 'last words');
    expect(await victim.line()).toBe('ready');
    const first = libos.waitSync(libos.pop(qd), 10_000);
    expect(new TextDecoder().decode(first.sga!.segments[0])).toBe('last words');
    const r = libos.waitSync(libos.pop(qd), 10_000);
    expect(r.opcode).toBe(Opcode.FAILED);
    expect(r.ret).toBe(ERRNO.ECONNRESET);
    expect((await victim.exited).signal).toBe('SIGKILL');
    libos.close(qd);
    expect(litter(name)).toEqual([]);
  });

  it('fails a push waiting for ring space with ECONNRESET', async () => {
    const name = uniqueName('kill-push');
    const victim = fixture('victim.mjs', name, 'create', 'never');
    expect(await victim.line()).toBe('ready');
    libos = new Catmem();
    const qd = libos.openPipe(name);
    // The victim's 4 KiB ring fills and nobody drains it.
    const qts = Array.from({ length: 8 }, () =>
      libos!.push(qd, { segments: [new Uint8Array(1000)] }),
    );
    const last = libos.wait(qts[7]!, 10_000);
    victim.proc.kill('SIGKILL');
    const r = await last;
    expect(r.opcode).toBe(Opcode.FAILED);
    expect(r.ret).toBe(ERRNO.ECONNRESET);
    await victim.exited;
  });

  it('leaves a name that createPipe takes over and openPipe reports absent', async () => {
    const name = uniqueName('takeover');
    const victim = fixture('victim.mjs', name, 'create', '0');
    expect(await victim.line()).toBe('ready');
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(litter(name)).toHaveLength(1);
    libos = new Catmem();
    expect(() => libos!.openPipe(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const qd = libos.createPipe(name);
    const peer = new Catmem();
    const qp = peer.openPipe(name);
    peer.waitSync(peer.push(qp, { segments: [new Uint8Array([9])] }));
    expect(libos.waitSync(libos.pop(qd)).sga!.segments[0]).toEqual(new Uint8Array([9]));
    peer.close(qp);
    await peer.shutdown();
    libos.close(qd);
    expect(litter(name)).toEqual([]);
  });
});

describe('the event loop', () => {
  const titles = {
    leave: 'no shutdown',
    shutdown: 'after shutdown',
    exit: 'process.exit with pipes open',
  };
  for (const how of ['leave', 'shutdown', 'exit'] as const) {
    it(`is not held after an async wait completes, and nothing is left in /dev/shm (${titles[how]})`, async () => {
      const name = uniqueName(`exit-${how}`);
      const child = fixture('exit.mjs', name, how);
      expect(await child.line()).toBe('got 42');
      const timer = setTimeout(() => child.proc.kill('SIGKILL'), 20_000);
      const { code, signal } = await child.exited;
      clearTimeout(timer);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(litter(name)).toEqual([]);
      // Nor the wake-up FIFO of its async wait.
      const pid = child.proc.pid!;
      expect(
        readdirSync('/dev/shm').filter((f) => f.startsWith(`demi-catmem-wake.${pid}.`)),
      ).toEqual([]);
    });
  }
});
