import { runConformance } from '@demi/core/conformance';
import { Catnap } from '../src/index.js';
import { freePort } from './support/ports.js';

// Every scenario of core's suite, with server and client on one Catnap over 127.0.0.1.
runConformance({
  name: 'catnap',
  capabilities: new Set(['tcp', 'udp', 'sockopt', 'multiprocess']),
  async setup() {
    const libos = new Catnap();
    return {
      server: libos,
      client: libos,
      serverAddress: '127.0.0.1',
      nextPort: () => freePort(libos),
      closedPort: () => freePort(libos),
      async teardown() {
        await libos.shutdown();
      },
    };
  },
});
