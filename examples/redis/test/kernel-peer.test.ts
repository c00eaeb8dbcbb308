// The server on the LibOSes with the TypeScript TCP/IP stack, in the dev
// namespace of a veth pair: catpowder (raw AF_PACKET socket) and catnip (DPDK's
// net_af_packet vdev), driven from the kernel side by redis-cli, ioredis and
// redis-benchmark in the peer namespace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NetnsPair } from '../../../tools/netns/index.mjs';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { run, startRedisServer } from './helpers.ts';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));
const IOREDIS_PEER = fileURLToPath(new URL('./peers/ioredis-peer.mjs', import.meta.url));
const SCRIPT = readFileSync(new URL('./fixtures/commands.txt', import.meta.url), 'utf8');
const PORT = 6379;

interface LibosCase {
  title: string;
  missing(): string | undefined;
  /** Environment that makes the server run on this LibOS on the pair's dev side. */
  env(pair: NetnsPair, dir: string): Record<string, string>;
}

function dpdkMissing(): string | undefined {
  try {
    // Resolved here, synchronously, so the suite knows before it starts whether it can run.
    const probe = spawnSyncNode(
      "import('@demi/catnip').then((m) => { const i = m.dpdkInfo(); console.log(i.dpdk ? 'ok' : i.reason); })",
    );
    return probe === 'ok' ? undefined : `@demi/catnip cannot run DPDK here: ${probe}`;
  } catch (err) {
    return `@demi/catnip does not load: ${(err as Error).message.split('\n')[0]}`;
  }
}

function spawnSyncNode(code: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 20_000,
  });
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? '';
}

const CASES: LibosCase[] = [
  {
    title: 'catpowder (AF_PACKET)',
    missing: () => undefined,
    env: (pair) => ({
      DEMI_LIBOS: 'catpowder',
      DEMI_CONFIG: '',
      DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp,
      DEMIKERNEL_PREFIX_LENGTH: '24',
      RAW_SOCKET_INTERFACE_NAME: pair.devIf,
      RAW_SOCKET_MODE: 'af_packet',
    }),
  },
  {
    title: 'catnip (DPDK net_af_packet)',
    missing: dpdkMissing,
    env: (pair, dir) => {
      const eal = ['demi-redis', '--no-huge', '--no-pci', '-m', '128', '--no-shconf'];
      eal.push('--no-telemetry', '-l', '0', '--file-prefix', `demi-redis-${process.pid}`);
      eal.push('--vdev', `net_af_packet0,iface=${pair.devIf}`);
      const config = join(dir, 'catnip.yaml');
      const yaml = ['demikernel:', `  local_ipv4_addr: ${pair.devIp}`, '  prefix_length: 24'];
      yaml.push('dpdk:', '  eal_init:', ...eal.map((a) => `    - ${JSON.stringify(a)}`), '');
      writeFileSync(config, yaml.join('\n'));
      return { DEMI_LIBOS: 'catnip', DEMI_CONFIG: config };
    },
  },
];

for (const libosCase of CASES)
  describePrivileged(
    `redis server on ${libosCase.title} against kernel clients over a veth pair`,
    () => missingNetnsSupport() ?? libosCase.missing(),
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'demi-redis-'));
      const net = useNetnsPair();
      let server: ChildProcess | undefined;
      let serverLog = '';

      /** Runs a command in the peer (kernel) namespace. */
      const inPeer = (cmd: string, args: string[], options = {}) => {
        const [bin, argv] = net.pair.argv('peer', cmd, args);
        return run(bin, argv, options);
      };

      beforeAll(async () => {
        const { pair } = net;
        const [bin, argv] = pair.argv('dev', process.execPath, [
          SERVER,
          '--address',
          pair.devIp,
          '--port',
          String(PORT),
        ]);
        server = spawn(bin, argv, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, ...libosCase.env(pair, dir) },
        });
        server.stderr!.on('data', (d) => (serverLog += d));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`server not ready: ${serverLog}`)),
            20_000,
          );
          server!.stdout!.on('data', (d) => {
            if (String(d).includes('ready')) {
              clearTimeout(timer);
              resolve();
            }
          });
          server!.on('exit', (code) => reject(new Error(`server exited ${code}: ${serverLog}`)));
        });
      });
      afterAll(() => {
        if (server?.pid !== undefined && server.exitCode === null)
          process.kill(server.pid, 'SIGKILL');
      });

      it('answers a redis-cli script from the kernel side exactly as redis-server does', async () => {
        const reference = await startRedisServer();
        let expected: string;
        try {
          expected = (await run('redis-cli', ['-p', String(reference.port)], { input: SCRIPT }))
            .stdout;
        } finally {
          reference.stop();
        }
        const r = await inPeer('redis-cli', ['-h', net.pair.devIp, '-p', String(PORT)], {
          input: SCRIPT,
          timeoutMs: 30_000,
        });
        expect(r.status).toBe(0);
        expect(expected.split('\n').length).toBeGreaterThan(200);
        expect(r.stdout).toBe(expected);
      });

      it('runs an ioredis pipeline from the kernel side', async () => {
        const r = await inPeer(process.execPath, [IOREDIS_PEER, net.pair.devIp, String(PORT)], {
          timeoutMs: 30_000,
        });
        expect(r.stderr).toBe('');
        const replies = JSON.parse(r.stdout);
        expect(replies).toHaveLength(407);
        for (let i = 0; i < 200; i++) expect(replies[i]).toBe('OK');
        for (let i = 0; i < 200; i++) expect(replies[200 + i]).toBe(`v${i}`.repeat(50));
        expect(replies.slice(400)).toEqual([5, 2, ['a', 'b'], 1, { f: 'v' }, 1, ['m', '1']]);
      });

      it('completes redis-benchmark -n 10000 from the kernel side without errors', async () => {
        const tests = 'ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset';
        const r = await inPeer(
          'redis-benchmark',
          [
            '-h',
            net.pair.devIp,
            '-p',
            String(PORT),
            '-t',
            tests,
            '-n',
            '10000',
            '-c',
            '20',
            '--csv',
          ],
          { timeoutMs: 200_000 },
        );
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.status).toBe(0);
        const lines = r.stdout.trim().split('\n').slice(1);
        expect(lines.length).toBeGreaterThanOrEqual(14);
        for (const line of lines) expect(Number(JSON.parse(`[${line}]`)[1])).toBeGreaterThan(0);
        expect(server?.exitCode).toBeNull();
      }, 240_000);
    },
  );
