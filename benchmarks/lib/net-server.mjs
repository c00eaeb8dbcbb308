#!/usr/bin/env node
// node:net echo server for ping-pong rows: `net-server.mjs tcp` (port 0 on 127.0.0.1)
// or `net-server.mjs unix <path>`. Prints `ready <port|path>`.
import { createServer } from 'node:net';
import { reportMemoryOnSignal } from './server-memory.mjs';

const [kind, path] = process.argv.slice(2);
const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => {});
});
let open = 0;
server.on('connection', (socket) => {
  open++;
  socket.once('close', () => open--);
});
reportMemoryOnSignal(() => open);
const onListening = () => {
  const addr = server.address();
  console.log(`ready ${typeof addr === 'string' ? addr : addr.port}`);
};
if (kind === 'unix') server.listen(path, onListening);
else server.listen(0, '127.0.0.1', onListening);
