// examples/http on catpowder (the TypeScript stack on a raw socket) in the dev
// namespace, read by curl and by node:net's fetch from the Linux kernel in the
// peer namespace: node:http over @demi/net against a stack nobody here wrote.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import {
  bigDigest,
  type RunningExample,
  run,
  sha256,
  startExample,
} from './support/http-example.js';

const BIG_MB = 8;

describePrivileged(
  'examples/http on catpowder against curl in the kernel peer namespace',
  () => missingNetnsSupport(),
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
          'raw_socket:',
          `  interface_name: ${pair.devIf}`,
          '  mode: af_packet',
          `  netns: ${pair.devNs}`,
          '',
        ].join('\n'),
      );
      example = await startExample(
        { DEMI_LIBOS: 'catpowder', DEMI_CONFIG: config },
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
