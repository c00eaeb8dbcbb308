// demi's conformance suite on catnip: two catnip LibOSes, each on its own
// DPDK port, joined by a net_memif link (shared memory; no kernel on the data
// path). The suite's target model has both LibOSes in one process, so both
// ports live in one EAL here; test/memif-stack.test.ts runs the stream
// scenarios between two processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AF_INET, SOCK_DGRAM } from '@demi/core';
import { runConformance } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import { afterAll } from 'vitest';
import { CatnipLibOS, retainEal } from '../src/index.js';
import { missingDpdk } from './helpers.js';

const SERVER_IP = '10.77.0.1';
const CLIENT_IP = '10.77.0.2';

describePrivileged('catnip conformance over net_memif', missingDpdk, () => {
  const dir = mkdtempSync(join(tmpdir(), 'demi-catnip-conf-'));
  let release: (() => void) | undefined;
  let port = 10_000;
  let link = 0;
  afterAll(() => {
    release?.();
    rmSync(dir, { recursive: true, force: true });
  });

  runConformance(
    {
      name: 'catnip (memif)',
      capabilities: new Set(['tcp', 'udp', 'sockopt']),
      async setup() {
        // A fresh link per scenario: a new socket, both ends re-created.
        const socket = join(dir, `link-${link++}.sock`);
        const memif = (role: string, n: number) =>
          `net_memif${n},role=${role},id=0,socket=${socket},socket-abstract=no`;
        const stack = (ip: string) => ({
          demikernel: { local_ipv4_addr: ip, prefix_length: 24 },
        });
        const server = new CatnipLibOS({
          config: stack(SERVER_IP),
          device: { vdevs: [memif('server', 0)] },
        });
        const client = new CatnipLibOS({
          config: stack(CLIENT_IP),
          device: { vdevs: [memif('client', 1)] },
        });
        // Scenarios shut both LibOSes down; the EAL must outlive them.
        release ??= retainEal();
        await server.port.waitForLink();
        await client.port.waitForLink();
        // DPDK has no wake-ups: a LibOS makes progress only inside its own
        // waits. A kernel keeps answering for a LibOS nobody waits on; here a
        // pending wait on an idle socket does (the scenarios often wait on one
        // side only while the other must answer ARP or ACK).
        const pumps = [server, client].map((libos, i) => {
          const qd = libos.socket(AF_INET, SOCK_DGRAM);
          libos.bind(qd, { address: i === 0 ? SERVER_IP : CLIENT_IP, port: 9 });
          libos.wait(libos.pop(qd)).catch(() => {});
          return () => {
            // A scenario may have shut the LibOS down already (which cancelled the pop).
            try {
              libos.close(qd);
            } catch {}
          };
        });
        return {
          server,
          client,
          serverAddress: SERVER_IP,
          nextPort: () => port++,
          closedPort: () => 7,
          internalErrors: () => server.stats.internalErrors + client.stats.internalErrors,
          async teardown() {
            for (const stop of pumps) stop();
            await client.shutdown();
            await server.shutdown();
          },
        };
      },
    },
    { bulkBytes: 16 * 2 ** 20 },
  );
});
