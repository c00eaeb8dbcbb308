// Runs in the kernel's namespace: an ioredis pipeline against the server under
// test; prints the replies as JSON on stdout.
import { Redis } from 'ioredis';

const [host, port] = process.argv.slice(2);
const client = new Redis({
  host,
  port: Number(port),
  maxRetriesPerRequest: 1,
  connectTimeout: 5000,
});
try {
  const p = client.pipeline();
  for (let i = 0; i < 200; i++) p.set(`peer:${i}`, `v${i}`.repeat(50));
  for (let i = 0; i < 200; i++) p.get(`peer:${i}`);
  p.incrby('peer:n', 5).rpush('peer:l', 'a', 'b').lrange('peer:l', 0, -1).hset('peer:h', 'f', 'v');
  p.hgetall('peer:h').zadd('peer:z', 1, 'm').zrange('peer:z', 0, -1, 'WITHSCORES');
  const results = await p.exec();
  console.log(JSON.stringify(results.map(([err, value]) => (err ? `ERR ${err.message}` : value))));
} finally {
  client.disconnect();
}
