// node:http on demi: examples/http served from another process on each TCP LibOS,
// read with curl (kernel LibOSes), node:http through DemiAgent, undici's fetch
// through demiConnector, and node:http served from @demi/net in this process.
import http from 'node:http';
import type { LibOS } from '@demi/core';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemiAgent, demiConnector, serveHttp } from '../src/http.js';
import net from '../src/index.js';
import {
  bigDigest,
  type RunningExample,
  run,
  sha256,
  startExample,
} from './support/http-example.js';
import { settledTokens, useLibOS } from './support/libos.js';

const BIG_MB = 16;
const BIG_BYTES = BIG_MB * 1024 * 1024;

function get(
  url: string,
  agent: http.Agent,
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe.each(['catnap', 'catloop'])('examples/http on %s', (name) => {
  let libos: LibOS;
  let example: RunningExample;
  let base: string;
  beforeAll(async () => {
    libos = await useLibOS(name);
    example = await startExample({ DEMI_LIBOS: name });
    base = `http://127.0.0.1:${example.port}`;
  });
  afterAll(async () => {
    await example?.stop();
    expect(await settledTokens(libos)).toBe(0);
    await libos.shutdown();
  });

  // curl speaks kernel TCP: it reaches catnap, not catloop's shared-memory sockets.
  if (name === 'catnap')
    it('curl reads the page and the streamed body', async () => {
      const page = await run('curl', ['-sS', '--fail', `${base}/`]);
      expect(page.code).toBe(0);
      expect(page.stdout.toString()).toContain('Hello from node:http on demi');
      const big = await run('curl', ['-sS', '--fail', `${base}/big?mb=${BIG_MB}`]);
      expect(big.code).toBe(0);
      expect(big.stdout.length).toBe(BIG_BYTES);
      expect(sha256(big.stdout)).toBe(bigDigest(BIG_BYTES));
      const upload = await run('curl', [
        '-sS',
        '--fail',
        '--data-binary',
        'demi',
        `${base}/sha256`,
      ]);
      expect(upload.stdout.toString()).toBe(sha256(Buffer.from('demi')));
    });

  it('node:http through DemiAgent, with keep-alive reuse', async () => {
    const agent = new DemiAgent({ keepAlive: true, maxSockets: 1, libos });
    const sockets = new Set<unknown>();
    agent.on('free', (s) => sockets.add(s));
    const first = await get(`${base}/`, agent);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toContain('Hello from node:http on demi');
    const big = await get(`${base}/big?mb=${BIG_MB}`, agent);
    expect(big.body.length).toBe(BIG_BYTES);
    expect(sha256(big.body)).toBe(bigDigest(BIG_BYTES));
    const missing = await get(`${base}/nope`, agent);
    expect(missing.status).toBe(404);
    // One socket served all three requests.
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('undici fetch through demiConnector', async () => {
    const dispatcher = new Agent({ connect: demiConnector({ libos }) as never });
    const page = await fetch(`${base}/`, { dispatcher });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Hello from node:http on demi');
    const big = await fetch(`${base}/big?mb=${BIG_MB}`, { dispatcher });
    const body = Buffer.from(await big.arrayBuffer());
    expect(body.length).toBe(BIG_BYTES);
    expect(sha256(body)).toBe(bigDigest(BIG_BYTES));
    const posted = await fetch(`${base}/sha256`, {
      dispatcher,
      method: 'POST',
      body: Buffer.alloc(3 * 1024 * 1024, 7),
    });
    expect(await posted.text()).toBe(sha256(Buffer.alloc(3 * 1024 * 1024, 7)));
    await dispatcher.close();
  });

  it('an unmodified node:http server served by serveHttp in this process', async () => {
    const httpServer = http.createServer((req, res) => {
      res.setHeader('x-libos', name);
      res.end(`you asked for ${req.url}`);
    });
    const server = serveHttp(httpServer, net.createServer({ libos }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address()!.port;
    const agent = new DemiAgent({ libos });
    const res = await get(`http://127.0.0.1:${port}/hello`, agent);
    expect(res.status).toBe(200);
    expect(res.headers['x-libos']).toBe(name);
    expect(res.body.toString()).toBe('you asked for /hello');
    agent.destroy();
    httpServer.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
