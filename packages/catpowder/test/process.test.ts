// catpowder as an application runs it: a separate process inside its namespace
// (`ip netns exec`), configured by the environment, served to a kernel client.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { MODE_CASES } from './helpers.js';
import { peerRun } from './stack-env.js';

const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const server = fileURLToPath(new URL('./fixtures/echo-server.ts', import.meta.url));

for (const mode of [MODE_CASES[0]!, MODE_CASES[2]!]) {
  describePrivileged(
    `catpowder process in its namespace (${mode.title})`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();

      it('init() from the environment; a kernel client gets its echo', async () => {
        const { pair } = net;
        const child = spawn('ip', ['netns', 'exec', pair.devNs, process.execPath, tsx, server], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            DEMI_LIBOS: 'catpowder',
            DEMI_CONFIG: '',
            DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp,
            RAW_SOCKET_INTERFACE_NAME: pair.devIf,
            RAW_SOCKET_MODE: mode.options.mode!,
            ...(mode.options.xdpMode ? { RAW_SOCKET_XDP_MODE: mode.options.xdpMode } : {}),
          },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (err += d));
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        try {
          const deadline = Date.now() + 30_000;
          while (!out.includes('ready') && Date.now() < deadline && child.exitCode === null)
            await new Promise((r) => setTimeout(r, 20));
          expect(out, err).toContain('ready catpowder');
          const client = await peerRun(pair, 'socat', ['-t', '5', '-', `TCP4:${pair.devIp}:7777`], {
            input: 'through a separate process',
          });
          expect(client.stdout).toBe('through a separate process');
          expect(await exited, err).toBe(0);
          expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ served: 26 });
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      });
    },
  );
}
