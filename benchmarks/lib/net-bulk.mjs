#!/usr/bin/env node
// node:net bulk transfer over TCP (loopback, or to a peer given by --address).
//   net-bulk.mjs server                 prints `ready <port>`; per connection: reads an
//                                       8-byte length, sinks that many bytes, answers 1 byte
//   net-bulk.mjs client [--address A] --port P --bytes N --runs R [--chunk 65536]
//                                       R transfers of N bytes in --chunk writes (one
//                                       connection each); prints {"runsMbps": [...]}
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { progress } from './client-io.mjs';

const { values: args, positionals } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    bytes: { type: 'string', default: String(64 << 20) },
    runs: { type: 'string', default: '1' },
    chunk: { type: 'string', default: '65536' },
  },
  allowPositionals: true,
});

if (positionals[0] === 'server') {
  const server = createServer((socket) => {
    let expected = -1;
    let got = 0;
    let header = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      if (expected < 0) {
        header = Buffer.concat([header, chunk]);
        if (header.byteLength < 8) return;
        expected = Number(header.readBigUInt64BE(0));
        got = header.byteLength - 8;
      } else got += chunk.byteLength;
      if (got >= expected) socket.write(Buffer.of(1));
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
} else {
  const total = Number(args.bytes);
  const chunk = Buffer.alloc(Number(args.chunk), 0x62);
  const runs = Number(args.runs);
  const runsMbps = [];
  for (let run = 0; run < runs; run++) {
    runsMbps.push(await transfer(total));
    progress((run + 1) / runs);
  }
  console.log(JSON.stringify({ runsMbps }));

  function transfer(bytes) {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: args.address, port: Number(args.port) });
      let start = 0;
      let sent = 0;
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(bytes));
      const pump = () => {
        while (sent < bytes) {
          const n = Math.min(chunk.byteLength, bytes - sent);
          sent += n;
          if (!socket.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) return;
        }
      };
      socket.on('connect', () => {
        start = performance.now();
        socket.write(header);
        pump();
      });
      socket.on('drain', pump);
      socket.on('data', () => {
        const ms = performance.now() - start;
        socket.destroy();
        resolve((bytes * 8) / ms / 1000);
      });
      socket.on('error', reject);
    });
  }
}
