#!/usr/bin/env node
// An unmodified node:http server on any TCP LibOS:
//   DEMI_LIBOS=catnap node examples/http/server.mjs --port 8080
// Serves a page at / and streams a large body at /big?mb=N (default 64 MiB), with
// backpressure. The only demi-specific line is the one that makes the listener.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import net, { defaultLibOS } from '@demi/net';
import { serveHttp } from '@demi/net/http';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '8080' },
  },
});

const PAGE = `<!doctype html>
<html><head><title>demi</title></head>
<body><h1>Hello from node:http on demi</h1>
<p>This page came through @demi/net. Try <a href="/big?mb=16">/big?mb=16</a>.</p></body></html>
`;

/** The body /big streams: byte i is i % 251, so a client can check every byte. */
const CHUNK = Buffer.alloc(64 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = i % 251;

function streamBig(res, bytes) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      // Chunks start where the pattern left off, so the whole body follows i % 251.
      const offset = sent % 251;
      const n = Math.min(CHUNK.length - 251, bytes - sent);
      sent += n;
      if (!res.write(CHUNK.subarray(offset, offset + n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  } else if (url.pathname === '/big') {
    const mb = Number(url.searchParams.get('mb') ?? 64);
    if (!Number.isFinite(mb) || mb < 0 || mb > 4096) {
      res.writeHead(400).end('mb must be 0..4096\n');
      return;
    }
    streamBig(res, Math.round(mb * 1024 * 1024));
  } else if (url.pathname === '/sha256') {
    // Echoes the digest of the request body: clients can check uploads.
    const hash = createHash('sha256');
    req.on('data', (c) => hash.update(c));
    req.on('end', () => res.end(hash.digest('hex')));
  } else {
    res.writeHead(404).end('not found\n');
  }
});

const libos = await defaultLibOS();
const server = serveHttp(httpServer, net.createServer());
server.listen(Number(args.port), args.address, () => {
  const { address, port } = server.address();
  console.log(`listening on ${address}:${port} (libos ${libos.name})`);
});
server.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
