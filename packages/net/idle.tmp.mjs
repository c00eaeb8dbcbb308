import http from 'node:http';
import net from '@demi/net';
import { serveHttp } from '@demi/net/http';
const hs = http.createServer((req, res) => res.end('hi\n'));
const s = serveHttp(hs, net.createServer());
s.listen(0, '127.0.0.1', () => console.log('ready', s.address().port));
process.once('SIGINT', () => { s.getConnections((e, n) => { console.log('sigint, connections', n); process.exit(0); }); });
setInterval(() => s.getConnections((e, n) => console.log('conns', n)), 2000).unref();
