import { runConformance } from '../src/conformance/index.js';
import { MemoryLibOS, MemoryNetwork } from './support/memory-libos.js';

// Proves the suite itself runs end to end (on the in-memory test backend, two instances).
runConformance(
  {
    name: 'memory (test backend)',
    capabilities: new Set(['tcp', 'udp', 'pipe']),
    async setup() {
      const network = new MemoryNetwork();
      const server = new MemoryLibOS(network);
      const client = new MemoryLibOS(network);
      let port = 10000;
      return {
        server,
        client,
        serverAddress: '127.0.0.1',
        nextPort: () => port++,
        closedPort: () => 9,
        async teardown() {
          await server.shutdown();
          await client.shutdown();
        },
      };
    },
  },
  { bulkBytes: 4 * 1024 * 1024 },
);

// A pipe-only backend: socket scenarios are skipped by capability, the ENOTSUP one runs.
runConformance({
  name: 'memory (pipes only)',
  capabilities: new Set(['pipe']),
  async setup() {
    const network = new MemoryNetwork();
    const a = new MemoryLibOS(network, ['pipe']);
    const b = new MemoryLibOS(network, ['pipe']);
    let port = 1;
    return {
      server: a,
      client: b,
      serverAddress: '127.0.0.1',
      nextPort: () => port++,
      closedPort: () => 9,
      teardown: async () => {
        await a.shutdown();
        await b.shutdown();
      },
    };
  },
});
