#!/usr/bin/env node
// The kernel end of the veth benchmarks, a node:net server in the peer namespace:
//   node net-peer.mjs echo <host>   echoes every connection (ping-pong)
//   node net-peer.mjs sink <host>   per transfer: reads an 8-byte length L, then
//                                   L bytes, then answers one byte (bulk)
// Listens on port 0 and prints `ready <port>`.
import { createServer } from 'node:net';

const [kind, host] = process.argv.slice(2);
const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  if (kind === 'echo') {
    socket.on('data', (chunk) => socket.write(chunk));
    return;
  }
  let header = Buffer.alloc(0);
  let remaining = -1;
  socket.on('data', (chunk) => {
    let data = chunk;
    while (data.length > 0) {
      if (remaining < 0) {
        const need = 8 - header.length;
        header = Buffer.concat([header, data.subarray(0, need)]);
        data = data.subarray(need);
        if (header.length < 8) return;
        remaining = Number(header.readBigUInt64BE(0));
        header = Buffer.alloc(0);
      }
      const take = Math.min(remaining, data.length);
      remaining -= take;
      data = data.subarray(take);
      if (remaining === 0) {
        remaining = -1;
        socket.write('k');
      }
    }
  });
});
server.listen(0, host, () => console.log(`ready ${server.address().port}`));
