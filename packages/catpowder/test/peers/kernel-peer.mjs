// Kernel-side peers for the stack tests, run inside the peer namespace with
// node:net and node:dgram (the Linux stack). One line of JSON (or "listening")
// on stdout says what happened.
//   node kernel-peer.mjs <command> <host> <port> [args...]
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

const [command, host, portText, ...args] = process.argv.slice(2);
const port = Number(portText);

/** Same generator as @demi/core's conformance `pattern`, so both ends agree on the bytes. */
function pattern(length, seed) {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function report(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function listening(server) {
  server.listen(port, host, () => process.stdout.write('listening\n'));
}

/** Reads a socket to EOF, reporting byte count and sha256. */
function drain(socket, done) {
  const hash = createHash('sha256');
  let bytes = 0;
  const started = process.hrtime.bigint();
  socket.on('data', (d) => {
    hash.update(d);
    bytes += d.length;
  });
  socket.on('end', () =>
    done({
      bytes,
      sha256: hash.digest('hex'),
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    }),
  );
  socket.on('error', (e) => done({ bytes, error: e.code }));
}

switch (command) {
  case 'echo-server':
    listening(net.createServer((s) => s.pipe(s).on('error', () => {})));
    break;
  case 'greet-server':
    listening(net.createServer((s) => s.end(args[0] ?? 'hello from node:net\n')));
    break;
  case 'reset-server':
    // Accepts, waits for the first bytes, then aborts with an RST.
    listening(net.createServer((s) => s.once('data', () => s.resetAndDestroy())));
    break;
  case 'hold-server':
    // Accepts and keeps every connection open, even after the peer's FIN (CLOSE-WAIT).
    listening(
      net.createServer({ allowHalfOpen: true }, (s) => {
        s.resume();
        s.on('error', () => {});
      }),
    );
    break;
  case 'sink-server': {
    const server = net.createServer((s) => {
      drain(s, (r) => {
        report(r);
        s.end();
        server.close();
      });
    });
    listening(server);
    break;
  }
  case 'source-server': {
    const data = pattern(Number(args[0]), Number(args[1]));
    const server = net.createServer((s) => {
      s.on('error', (e) => report({ error: e.code }));
      s.end(data, () => {
        report({ sent: data.length });
        server.close();
      });
    });
    listening(server);
    break;
  }
  case 'send-close': {
    const data = pattern(Number(args[0]), Number(args[1]));
    const s = net.connect(port, host, () => s.end(data));
    s.on('error', (e) => report({ error: e.code }));
    s.on('close', () => report({ sent: data.length }));
    s.resume();
    break;
  }
  case 'read-all': {
    const s = net.connect(port, host);
    drain(s, report);
    break;
  }
  case 'simultaneous': {
    // Sends its data, reads the other side's data and a final marker byte, then
    // closes at once: the other side closes on sending the marker, so the FINs cross.
    const size = Number(args[0]);
    const data = pattern(size, Number(args[1]));
    const hash = createHash('sha256');
    let got = 0;
    const s = net.connect(port, host, () => s.write(data));
    s.on('data', (d) => {
      const take = Math.min(d.length, size - got);
      hash.update(d.subarray(0, take));
      got += take;
      if (got === size && d.length > take) {
        s.end();
      }
    });
    s.on('error', (e) => report({ error: e.code, got }));
    s.on('close', () => report({ got, sha256: hash.digest('hex') }));
    break;
  }
  case 'rst-client': {
    // Sends a byte and reports how the connection ended.
    const s = net.connect(port, host, () => s.write('x'));
    s.on('data', () => {});
    s.on('error', (e) => report({ error: e.code }));
    s.on('end', () => report({ end: true }));
    break;
  }
  case 'udp-echo': {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
    sock.bind(port, host, () => process.stdout.write('listening\n'));
    break;
  }
  case 'pattern-sha': {
    report({
      sha256: createHash('sha256')
        .update(pattern(Number(args[0]), Number(args[1])))
        .digest('hex'),
    });
    break;
  }
  default:
    process.stderr.write(`unknown command ${command}\n`);
    process.exit(2);
}
