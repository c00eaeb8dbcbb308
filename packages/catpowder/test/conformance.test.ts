// The conformance suite with the Linux kernel as the other end: kernel sockets
// come from @demi/catnap, created inside the peer namespace (runInNetns), so one
// vitest process holds both ends. Each LibOS plays server in one target and
// client in the other.

import { Catnap } from '@demi/catnap';
import type { Capability, LibOS } from '@demi/core';
import { type ConformanceEnv, runConformance } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { runInNetns } from '../src/index.js';
import { MODE_CASES } from './helpers.js';
import { keepPolling, openCatpowder } from './stack-env.js';

const CAPABILITIES: ReadonlySet<Capability> = new Set(['tcp', 'udp']);

/** A kernel-socket LibOS whose sockets live in namespace `ns`. */
function kernelIn(ns: string): LibOS {
  const catnap = new Catnap();
  return new Proxy(catnap, {
    get(target, prop) {
      if (prop === 'socket')
        return (domain: number, type: number, protocol?: number) =>
          runInNetns(ns, () => target.socket(domain, type, protocol));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

for (const mode of MODE_CASES.filter((m) => m.title !== 'af_xdp (skb)')) {
  describePrivileged(
    `conformance over a veth (${mode.title})`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();
      let port = 40000;

      const env = (stackIsServer: boolean): ConformanceEnv => {
        const { pair } = net;
        const catpowder = openCatpowder(pair, mode.options).libos;
        const kernel = kernelIn(pair.peerNs);
        // The stack answers (ARP, RSTs to closed ports) only while something waits
        // on it; when only the kernel side waits, keep it polling.
        const stopPolling = keepPolling(catpowder);
        return {
          server: stackIsServer ? catpowder : kernel,
          client: stackIsServer ? kernel : catpowder,
          serverAddress: stackIsServer ? pair.devIp : pair.peerIp,
          nextPort: () => port++,
          closedPort: () => 39999,
          internalErrors: () => catpowder.stats.internalErrors,
          async teardown() {
            stopPolling();
            await catpowder.shutdown();
            await kernel.shutdown();
          },
        };
      };

      runConformance({
        name: `catpowder server, kernel client (${mode.title})`,
        capabilities: CAPABILITIES,
        setup: async () => env(true),
      });
      runConformance({
        name: `kernel server, catpowder client (${mode.title})`,
        capabilities: CAPABILITIES,
        setup: async () => env(false),
      });
    },
  );
}
