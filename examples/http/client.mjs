#!/usr/bin/env node
// node:http client on any TCP LibOS, through an http.Agent whose connections are @demi/net's:
//   DEMI_LIBOS=catloop node examples/http/client.mjs --url http://127.0.0.1:8080/big?mb=16
import http from 'node:http';
import { parseArgs } from 'node:util';
import { DemiAgent } from '@demi/net/http';

const { values: args } = parseArgs({
  options: { url: { type: 'string', default: 'http://127.0.0.1:8080/' } },
});

const agent = new DemiAgent({ keepAlive: false });
const start = performance.now();
http.get(args.url, { agent }, (res) => {
  let bytes = 0;
  let bad = 0;
  const isBig = new URL(args.url).pathname === '/big';
  res.on('data', (chunk) => {
    if (isBig) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (bytes + i) % 251) bad++;
    } else {
      process.stdout.write(chunk);
    }
    bytes += chunk.length;
  });
  res.on('end', () => {
    const ms = performance.now() - start;
    console.log(
      `${res.statusCode}: ${bytes} bytes in ${ms.toFixed(0)} ms` +
        (isBig ? `, ${bad === 0 ? 'every byte as expected' : `${bad} bytes wrong`}` : ''),
    );
    process.exit(bad === 0 ? 0 : 1);
  });
});
