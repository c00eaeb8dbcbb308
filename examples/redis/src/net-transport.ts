// The engine over node:net, for comparison with the demi transport: the same
// sessions, one socket.write per read.
import { createServer, type Server, type Socket } from 'node:net';
import type { Engine } from './engine.ts';
import { Session, type SessionLimits } from './session.ts';

export function serveNet(engine: Engine, limits: SessionLimits, connections: Set<unknown>): Server {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    const session = new Session(engine, limits);
    connections.add(socket);
    socket.on('data', (data: Buffer) => {
      const reply = session.receive(data, socket.writableLength);
      if (session.state === 'drop') return void socket.destroy();
      if (reply !== undefined) socket.write(reply);
      if (session.state === 'close-after-reply') socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
  });
  return server;
}
