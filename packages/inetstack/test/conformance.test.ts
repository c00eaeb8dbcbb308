import { runConformance } from '@demi/core/conformance';
import { MemoryLink } from '../src/device/memory-link.js';
import { InetStackLibOS } from '../src/socket/libos.js';

// Two stacks linked in memory. The pump stands in for the peer's own event loop:
// a real network peer (a kernel) answers SYNs whether or not anyone waits on it.
runConformance({
  name: 'inetstack (two stacks, in-memory link)',
  capabilities: new Set(['tcp', 'udp', 'sockopt']),
  async setup() {
    const [da, db] = MemoryLink.pair();
    const server = new InetStackLibOS({
      name: 'inetstack',
      device: da,
      config: { demikernel: { local_ipv4_addr: '10.0.0.1' } },
    });
    const client = new InetStackLibOS({
      name: 'inetstack',
      device: db,
      config: { demikernel: { local_ipv4_addr: '10.0.0.2' } },
    });
    const pump = setInterval(() => {
      server.stack.poll();
      client.stack.poll();
    }, 1);
    let port = 10000;
    return {
      server,
      client,
      serverAddress: '10.0.0.1',
      nextPort: () => port++,
      closedPort: () => 9,
      internalErrors: () => server.stats.internalErrors + client.stats.internalErrors,
      async teardown() {
        clearInterval(pump);
        await server.shutdown();
        await client.shutdown();
      },
    };
  },
});
