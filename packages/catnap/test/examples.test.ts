import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The examples as a user runs them: separate processes, the LibOS chosen by DEMI_LIBOS,
// loaded through init() from the built packages (nx builds before it tests).
const root = fileURLToPath(new URL('../../..', import.meta.url));
const env = { ...process.env, DEMI_LIBOS: 'catnap' };

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

async function listeningPort(child: ChildProcess, output: () => string): Promise<number> {
  while (!/listening on/.test(output())) await once(child.stdout!, 'data');
  const match = /listening on 127\.0\.0\.1:(\d+) \(libos catnap\)/.exec(output());
  if (!match) throw new Error(`unexpected server output: ${output()}`);
  return Number(match[1]);
}

describe('examples with DEMI_LIBOS=catnap', () => {
  it('tcp-echo: server and client as child processes', async () => {
    const server = start('examples/tcp-echo/server.mjs', ['--port', '0', '--connections', '1']);
    try {
      const port = await listeningPort(server.child, server.output);
      const client = start('examples/tcp-echo/client.mjs', [
        '--port',
        String(port),
        '--count',
        '20',
        '--size',
        '1000',
      ]);
      expect(await client.exit, client.output()).toBe(0);
      expect(client.output()).toMatch(
        /echoed 20 messages of 1000 bytes \(libos catnap\); round trip median [\d.]+ us/,
      );
      expect(await server.exit, server.output()).toBe(0);
      expect(server.output()).toMatch(/127\.0\.0\.1:\d+ done, echoed 20000 bytes/);
    } finally {
      server.child.kill();
    }
  });

  it('udp-echo: server and client as child processes', async () => {
    const server = start('examples/udp-echo/server.mjs', ['--port', '0', '--datagrams', '5']);
    try {
      const port = await listeningPort(server.child, server.output);
      const client = start('examples/udp-echo/client.mjs', [
        '--port',
        String(port),
        '--count',
        '5',
      ]);
      expect(await client.exit, client.output()).toBe(0);
      expect(client.output()).toContain(
        `echoed 5 datagrams of 64 bytes from 127.0.0.1:${port} (libos catnap)`,
      );
      expect(await server.exit, server.output()).toBe(0);
      expect(server.output()).toContain('echoed 5 datagrams');
    } finally {
      server.child.kill();
    }
  });
});
