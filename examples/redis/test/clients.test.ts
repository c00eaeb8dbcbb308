// The server on catnap and on node:net, driven by real clients: redis-cli (its
// replies compared with redis-server's for the same script), ioredis pipelines,
// raw sockets for protocol errors and limits, and redis-benchmark.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.ts';
import { connectRaw, readUntilClose, run, startRedisServer } from './helpers.ts';

const SCRIPT = readFileSync(new URL('./fixtures/commands.txt', import.meta.url), 'utf8');

let reference: { port: number; stop(): void };
let referenceReplies: string;
beforeAll(async () => {
  reference = await startRedisServer();
  referenceReplies = (await run('redis-cli', ['-p', String(reference.port)], { input: SCRIPT }))
    .stdout;
});
afterAll(() => reference?.stop());

for (const transport of ['catnap', 'node'] as const) {
  describe(`redis server on ${transport === 'node' ? 'node:net' : transport}`, () => {
    let server: RunningServer;
    // Each server on catnap gets its own LibOS instance (it owns that instance's waitNextN).
    const start = (limits = {}) =>
      transport === 'node'
        ? startServer({ port: 0, transport: 'node', limits })
        : startServer({ port: 0, transport: 'demi', libosName: 'catnap', limits });

    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('answers a redis-cli script exactly as redis-server does', async () => {
      const r = await run('redis-cli', ['-p', String(server.port)], { input: SCRIPT });
      expect(r.status).toBe(0);
      // The reference run is real Redis 7; a few hundred replies, every one compared.
      expect(referenceReplies.split('\n').length).toBeGreaterThan(200);
      expect(r.stdout).toBe(referenceReplies);
    });

    it('runs ioredis pipelines', async () => {
      const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
      await client.connect();
      try {
        const p = client.pipeline();
        for (let i = 0; i < 500; i++) p.set(`pk:${i}`, `value-${i}`);
        for (let i = 0; i < 500; i++) p.get(`pk:${i}`);
        p.incrby('pcounter', 7).rpush('plist', 'a', 'b', 'c').lrange('plist', 0, -1);
        p.hset('phash', 'f', 'v').hgetall('phash').zadd('pz', 2, 'b', 1, 'a');
        p.zrange('pz', 0, -1, 'WITHSCORES').sadd('pset', 'x').smembers('pset').get('plist');
        const results = (await p.exec())!;
        expect(results).toHaveLength(1000 + 10);
        for (let i = 0; i < 500; i++) expect(results[i]).toEqual([null, 'OK']);
        for (let i = 0; i < 500; i++) expect(results[500 + i]).toEqual([null, `value-${i}`]);
        expect(results.slice(1000, 1009).map((r) => r[1])).toEqual([
          7,
          3,
          ['a', 'b', 'c'],
          1,
          { f: 'v' },
          2,
          ['a', '1', 'b', '2'],
          1,
          ['x'],
        ]);
        const wrong = results[1009]!;
        expect((wrong[0] as Error).message).toBe(
          'WRONGTYPE Operation against a key holding the wrong kind of value',
        );
        expect(await client.mget('pk:1', 'nokey')).toEqual(['value-1', null]);
        expect(await client.dbsize()).toBeGreaterThan(500);
      } finally {
        client.disconnect();
      }
    });

    it('answers inline commands, as nc sends them', async () => {
      const s = await connectRaw(server.port);
      const done = readUntilClose(s);
      s.write('PING\r\nSET greeting "hello world"\nGET greeting\r\nQUIT\r\n');
      const { data, closed } = await done;
      expect(data).toBe('+PONG\r\n+OK\r\n$11\r\nhello world\r\n+OK\r\n');
      expect(closed).toBe(true);
    });

    it('answers malformed RESP with a protocol error and closes the connection', async () => {
      for (const [input, error] of [
        ['*1\r\n$-1\r\n', 'invalid bulk length'],
        ['*1\r\n$536870913\r\n', 'invalid bulk length'],
        ['*1048577\r\n', 'invalid multibulk length'],
        ['*1\r\n+PING\r\n', "expected '$', got '+'"],
      ] as const) {
        const s = await connectRaw(server.port);
        const done = readUntilClose(s);
        s.write(`PING\r\n${input}PING\r\n`);
        const { data, closed } = await done;
        expect(data).toBe(`+PONG\r\n-ERR Protocol error: ${error}\r\n`);
        expect(closed).toBe(true);
      }
    });

    it('expires keys lazily and in the background', async () => {
      const client = new Redis({ port: server.port, host: '127.0.0.1' });
      try {
        const bg = client.pipeline();
        for (let i = 0; i < 200; i++) bg.set(`bg:${i}`, 'v', 'PX', 200);
        await bg.exec();
        await client.set('lazy', 'v', 'PX', 1000);
        expect(await client.exists('lazy')).toBe(1);
        const keysBefore = server.engine.ks.size;
        await new Promise((r) => setTimeout(r, 1300));
        // Nobody touched the bg:* keys: only the periodic cycle can have removed them.
        expect(server.engine.ks.size).toBeLessThanOrEqual(keysBefore - 200);
        expect(await client.get('lazy')).toBeNull();
        expect(await client.pttl('lazy')).toBe(-2);
      } finally {
        client.disconnect();
      }
    });

    it('disconnects a client that sends and never reads (output buffer limit)', async () => {
      const limited = await start({ outputMax: 1024 * 1024 });
      try {
        const setup = new Redis({ port: limited.port, host: '127.0.0.1' });
        await setup.set('big', 'x'.repeat(100_000));
        setup.disconnect();
        const s = await connectRaw(limited.port);
        s.pause(); // never read
        s.on('error', () => {});
        let sent = 0;
        const request = '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(100);
        const deadline = Date.now() + 20_000;
        while (limited.connectionCount() > 0 && Date.now() < deadline) {
          if (!s.destroyed && s.writableLength < 1 << 20) {
            s.write(request);
            sent += 100;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        // 100 KB per reply: far more was asked for than the limit and the socket buffers hold.
        expect(limited.connectionCount()).toBe(0);
        expect(sent * 100_000).toBeGreaterThan(8 * 1024 * 1024);
        s.destroy();
      } finally {
        await limited.stop();
      }
    });

    it('holds 1,000 idle connections in bounded memory', async () => {
      const base = server.connectionCount();
      global.gc?.();
      const before = process.memoryUsage().rss;
      const sockets = await Promise.all(
        Array.from({ length: 1000 }, () => connectRaw(server.port)),
      );
      try {
        const deadline = Date.now() + 20_000;
        while (server.connectionCount() < base + 1000 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        expect(server.connectionCount()).toBe(base + 1000);
        // Half a request on each: the partial frame must not pin a receive slab per connection.
        for (const s of sockets) s.write('*2\r\n$3\r\nGET\r\n$3\r\nab');
        await new Promise((r) => setTimeout(r, 300));
        const grown = process.memoryUsage().rss - before;
        // Both ends of every connection live in this process; well under 100 KiB each.
        expect(grown).toBeLessThan(100 * 1024 * 1024);
        const s = sockets[999]!;
        const reply = new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
        s.write('c\r\n');
        expect(await reply).toBe('$-1\r\n');
      } finally {
        for (const s of sockets) s.destroy();
      }
      const deadline = Date.now() + 20_000;
      while (server.connectionCount() > base && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(server.connectionCount()).toBe(base);
    });

    it('completes redis-benchmark without errors', async () => {
      const tests = 'ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset';
      const r = await run(
        'redis-benchmark',
        ['-p', String(server.port), '-t', tests, '-n', '10000', '-c', '20', '-P', '4', '--csv'],
        { timeoutMs: 120_000 },
      );
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n').slice(1);
      // One CSV line per test, each with a positive rate.
      expect(lines.length).toBeGreaterThanOrEqual(14);
      for (const line of lines) expect(Number(JSON.parse(`[${line}]`)[1])).toBeGreaterThan(0);
    }, 150_000);
  });
}
