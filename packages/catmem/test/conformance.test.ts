import { runConformance } from '@demi/core/conformance';
import { Catmem } from '../src/index.js';

let port = 1;

// Core's pipe scenarios with the two ends in two Catmem instances (two mappings
// of one segment), and again with both ends in one instance.
for (const shared of [false, true]) {
  runConformance({
    name: shared ? 'catmem (one instance)' : 'catmem (two instances)',
    capabilities: new Set(['pipe', 'multiprocess']),
    async setup() {
      const server = new Catmem({ ringSize: 64 * 1024 });
      const client = shared ? server : new Catmem({ ringSize: 64 * 1024 });
      return {
        server,
        client,
        serverAddress: '127.0.0.1',
        nextPort: () => port++,
        closedPort: () => 65535,
        async teardown() {
          await server.shutdown();
          await client.shutdown();
        },
      };
    },
  });
}
