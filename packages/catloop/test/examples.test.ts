import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeIf } from '@demi/core/testing';
import { expect, it } from 'vitest';

// examples/tcp-echo as a user runs it, unchanged: two processes, the LibOS chosen
// by DEMI_LIBOS, loaded through init() from the built package.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const env = { ...process.env, DEMI_LIBOS: 'catloop' };
const missingExamples = (): string | undefined =>
  existsSync(`${root}/examples/tcp-echo/server.mjs`) &&
  existsSync(`${root}/examples/tcp-echo/client.mjs`)
    ? undefined
    : 'examples/tcp-echo is not in this checkout';

function start(
  script: string,
  args: string[],
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  child.stderr!.on('data', (c: Buffer) => (out += String(c)));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

const catloopSegments = () =>
  new Set(readdirSync('/dev/shm').filter((f) => f.startsWith('demi-catmem.catloop.127.0.0.1:')));

describeIf('examples with DEMI_LIBOS=catloop', missingExamples, () => {
  it('tcp-echo: server and client as child processes, nothing left in /dev/shm', async () => {
    const before = catloopSegments();
    const server = start('examples/tcp-echo/server.mjs', ['--port', '0', '--connections', '1']);
    try {
      while (!/listening on/.test(server.output())) {
        if (server.child.exitCode !== null) throw new Error(server.output());
        await once(server.child.stdout!, 'data');
      }
      const match = /listening on 127\.0\.0\.1:(\d+) \(libos catloop\)/.exec(server.output());
      expect(match, server.output()).not.toBeNull();
      const client = start('examples/tcp-echo/client.mjs', [
        '--port',
        match![1]!,
        '--count',
        '20',
        '--size',
        '1000',
      ]);
      expect(await client.exit, client.output()).toBe(0);
      expect(client.output()).toMatch(
        /echoed 20 messages of 1000 bytes \(libos catloop\); round trip median [\d.]+ us/,
      );
      expect(await server.exit, server.output()).toBe(0);
      expect(server.output()).toMatch(/127\.0\.0\.1:\d+ done, echoed 20000 bytes/);
    } finally {
      server.child.kill();
    }
    const left = [...catloopSegments()].filter((f) => !before.has(f));
    expect(left).toEqual([]);
  });
});
