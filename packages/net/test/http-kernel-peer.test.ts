// examples/http on the user-level stack in the dev namespace — catpowder (raw
// socket) and catnip (DPDK's net_af_packet) — read by curl from the Linux kernel
// in the peer namespace: node:http over @demi/net against a stack nobody here wrote.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport, type NetnsPair } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import {
  bigDigest,
  type RunningExample,
  run,
  sha256,
  startExample,
} from './support/http-example.js';

const BIG_MB = 8;

/** Why catnip cannot run here (no root, no namespaces, no DPDK), or undefined. */
async function missingDpdk(): Promise<string | undefined> {
  try {
    const { dpdkInfo } = await import('@demi/catnip');
    const info = dpdkInfo();
    return info.dpdk ? undefined : `catnip was ${info.reason}`;
  } catch (err) {
    return (err as Error).message;
  }
}
const dpdkMissing = await missingDpdk();

const STACKS = [
  {
    libos: 'catpowder',
    missing: () => missingNetnsSupport(),
    config: (pair: NetnsPair) => [
      'raw_socket:',
      `  interface_name: ${pair.devIf}`,
      '  mode: af_packet',
      `  netns: ${pair.devNs}`,
    ],
  },
  {
    libos: 'catnip',
    missing: () => missingNetnsSupport() ?? dpdkMissing,
    config: (pair: NetnsPair) => [
      'dpdk:',
      `  vdevs: ["net_af_packet0,iface=${pair.devIf}"]`,
      `  netns: ${pair.devNs}`,
    ],
  },
];

for (const stack of STACKS)
  describePrivileged(
    `examples/http on ${stack.libos} against curl in the kernel peer namespace`,
    stack.missing,
    () => {
      const net = useNetnsPair();
      let example: RunningExample;
      let base: string;

      beforeAll(async () => {
        const { pair } = net;
        const dir = mkdtempSync(join(tmpdir(), 'demi-net-http-'));
        const config = join(dir, 'demi.yaml');
        writeFileSync(
          config,
          [
            'demikernel:',
            `  local_ipv4_addr: ${pair.devIp}`,
            '  prefix_length: 24',
            ...stack.config(pair),
            '',
          ].join('\n'),
        );
        example = await startExample(
          { DEMI_LIBOS: stack.libos, DEMI_CONFIG: config },
          { address: '0.0.0.0' },
        );
        base = `http://${pair.devIp}:${example.port}`;
      }, 60_000);
      afterAll(async () => {
        await example?.stop();
      });

      const inPeer = (cmd: string, args: string[]) => {
        const [bin, argv] = net.pair.argv('peer', cmd, args);
        return run(bin, argv, { timeoutMs: 60_000 });
      };

      it('curl gets the page', async () => {
        const r = await inPeer('curl', ['-sS', '--fail', '--max-time', '30', `${base}/`]);
        expect(r.stderr).toBe('');
        expect(r.stdout.toString()).toContain('Hello from node:http on demi');
      });

      it('curl streams a large body, every byte right', async () => {
        const r = await inPeer('curl', [
          '-sS',
          '--fail',
          '--max-time',
          '60',
          `${base}/big?mb=${BIG_MB}`,
        ]);
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(BIG_MB * 1024 * 1024);
        expect(sha256(r.stdout)).toBe(bigDigest(BIG_MB * 1024 * 1024));
      });

      it('curl uploads a body and reads its digest back; keep-alive serves several requests', async () => {
        const r = await inPeer('curl', [
          '-sS',
          '--fail',
          '--max-time',
          '30',
          '--data-binary',
          'hello from the kernel',
          `${base}/sha256`,
          '--next',
          `${base}/`,
        ]);
        const out = r.stdout.toString();
        expect(out.startsWith(sha256(Buffer.from('hello from the kernel')))).toBe(true);
        expect(out).toContain('Hello from node:http on demi');
      });
    },
  );
