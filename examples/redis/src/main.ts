// The command line: `node examples/redis/server.mjs --port 6380 [--transport demi|node]`.
// With --transport demi (the default) the LibOS is the one DEMI_LIBOS names.
import { parseArgs } from 'node:util';
import { startServer } from './server.ts';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '6380' },
    transport: { type: 'string', default: 'demi' },
    'output-limit': { type: 'string' },
  },
});

if (args.transport !== 'demi' && args.transport !== 'node') {
  console.error(`--transport must be demi or node, got ${args.transport}`);
  process.exit(2);
}
const server = await startServer({
  address: args.address,
  port: Number(args.port),
  transport: args.transport,
  ...(args['output-limit'] ? { limits: { outputMax: Number(args['output-limit']) } } : {}),
});
console.log(`ready ${server.port}`);
console.error(`redis-compatible server on ${server.address}:${server.port} (${server.transport})`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
