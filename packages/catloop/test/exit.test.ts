import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { afterAll, describe, expect, it } from 'vitest';
import { Catloop } from '../src/index.js';
import { litter, TEST_NET } from './support/env.js';

// A bound on "exits by itself", not a speed measurement.
const EXIT_BOUND_MS = 20_000;
const ADDRESS = `${TEST_NET}3.1`;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function run(
  name: string,
  ...args: string[]
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name), ADDRESS, ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  child.stderr!.on('data', (c: Buffer) => (out += String(c)));
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not exit within ${EXIT_BOUND_MS} ms; output:\n${out}`));
    }, EXIT_BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { child, output: () => out, exited };
}

afterAll(() => {
  expect(litter()).toEqual([]);
});

describe('the event loop', () => {
  it('a process with catloop sockets open and nothing waited on exits by itself, removing its segments', async () => {
    const { exited, output } = run('idle-exit.ts');
    expect(await exited, output()).toBe(0);
    expect(output()).toMatch(/idle with a listener and a connection open on port \d+/);
    expect(litter()).toEqual([]);
  });

  it('an async wait keeps the process alive until it completes, then it exits', async () => {
    const { child, exited, output } = run('wait-then-exit.ts');
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(/listening (\d+)/.exec(String(line))?.[1]);
    expect(port).toBeGreaterThan(0);
    // Still running after its loop had every chance to drain: only the wait holds it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBe(null);
    const libos = new Catloop();
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    const r = await libos.wait(libos.connect(qd, { address: ADDRESS, port }), 20_000);
    expect(r.opcode).toBe(Opcode.CONNECT);
    expect(await exited).toBe(0);
    expect(output()).toContain('accepted');
    libos.close(qd);
    await libos.shutdown();
  });

  it('a process dying of an uncaught exception closes its connections: EOF for the peer, no segment left', async () => {
    const server = new Catloop();
    try {
      const listener = server.socket(AF_INET, SOCK_STREAM);
      server.bind(listener, { address: ADDRESS, port: 0 });
      server.listen(listener, 4);
      const port = server.getsockname(listener).port;
      const accepting = server.wait(server.accept(listener), 20_000);
      const { exited, output } = run('crash-exit.ts', String(port));
      const accepted = await accepting;
      expect(accepted.opcode).toBe(Opcode.ACCEPT);
      expect(await exited, output()).not.toBe(0);
      expect(output()).toContain('deliberate uncaught exception');
      const eof = await server.wait(server.pop(accepted.accepted!.qd), 20_000);
      expect(eof.opcode).toBe(Opcode.POP);
      expect(eof.sga!.segments[0]!.byteLength).toBe(0);
      server.close(accepted.accepted!.qd);
      server.close(listener);
      // The client's own pipe went with it.
      expect(litter()).toEqual([]);
    } finally {
      await server.shutdown();
    }
  });
});
