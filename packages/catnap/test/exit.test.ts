import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Generous: a bound on "exits by itself", not a speed measurement.
const EXIT_BOUND_MS = 20_000;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function run(name: string): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name)], {
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

describe('the event loop', () => {
  it('a process with catnap, open sockets and nothing waited on exits on its own', async () => {
    const { exited, output } = run('idle-exit.ts');
    expect(await exited).toBe(0);
    expect(output()).toContain('idle with 3 sockets open');
  });

  it('an async wait keeps the process alive until it completes, then it exits', async () => {
    const { child, exited, output } = run('wait-then-exit.ts');
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(/listening (\d+)/.exec(String(line))?.[1]);
    expect(port).toBeGreaterThan(0);
    // Still running after its loop had every chance to drain: only the wait holds it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBe(null);
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    expect(await exited).toBe(0);
    expect(output()).toContain('accepted');
    socket.destroy();
  });
});
