// Ports of Node's test/parallel/test-net-*.js (connections and data), adapted to
// import @demi/net and to run under vitest on each LibOS. See the README's table.
import assert from 'node:assert';
import { describe, it } from 'vitest';
import net, { type Socket } from '../src/index.js';
import { LIBOSES, onLibOS, ported } from './support/common.js';

describe.each(LIBOSES)('node:net tests (connections) on %s', (name) => {
  onLibOS(name);

  // test-net-pingpong: N ping-pongs with setEncoding; the client ends after the last pong
  // (the original also pings once after its end(), which needs half-close).
  it(
    'test-net-pingpong',
    ported((common, done) => {
      const N = 200;
      let count = 0;
      let sentPongs = 0;
      const server = net.createServer(
        { allowHalfOpen: true },
        common.mustCall((socket: Socket) => {
          assert.strictEqual(socket.server, server);
          assert.strictEqual(
            server,
            server.getConnections(common.mustSucceed((n: number) => assert.strictEqual(n, 1))),
          );
          socket.setNoDelay();
          socket.setEncoding('utf8');
          socket.on(
            'data',
            common.mustCall((data: string) => {
              assert.strictEqual(socket.writable, true);
              assert.strictEqual(socket.readable, true);
              assert.strictEqual(data, 'PING');
              socket.write(
                'PONG',
                common.mustCall(() => sentPongs++),
              );
            }, N),
          );
          socket.on(
            'end',
            common.mustCall(() => {
              assert.strictEqual(socket.allowHalfOpen, true);
              assert.strictEqual(socket.writable, true);
              assert.strictEqual(socket.readable, false);
              socket.end();
            }),
          );
          socket.on('error', common.mustNotCall());
          socket.on(
            'close',
            common.mustCall(() => {
              assert.strictEqual(socket.writable, false);
              assert.strictEqual(socket.readable, false);
              server.close(done);
            }),
          );
        }),
      );
      server.listen(
        0,
        '127.0.0.1',
        common.mustCall(() => {
          const client = net.createConnection(server.address()!.port, '127.0.0.1');
          client.setEncoding('ascii');
          client.on(
            'connect',
            common.mustCall(() => {
              assert.strictEqual(client.readable, true);
              assert.strictEqual(client.writable, true);
              client.write('PING');
            }),
          );
          client.on(
            'data',
            common.mustCall((data: string) => {
              assert.strictEqual(data, 'PONG');
              count += 1;
              if (count < N) client.write('PING');
              else client.end();
            }, N),
          );
          client.on(
            'close',
            common.mustCall(() => {
              assert.strictEqual(count, N);
              assert.strictEqual(sentPongs, N);
            }),
          );
          client.on('error', common.mustNotCall());
        }),
      );
    }),
  );

  // test-net-after-close: calls on a closed socket do not throw.
  it(
    'test-net-after-close',
    ported((common, done) => {
      const server = net.createServer(common.mustCall((s: Socket) => s.end()));
      server.listen(
        0,
        common.mustCall(() => {
          const c = net.createConnection(server.address()!.port);
          c.on(
            'close',
            common.mustCall(() => {
              c.setNoDelay();
              c.setKeepAlive();
              void c.writableLength;
              c.pause();
              c.resume();
              c.address();
              void c.remoteAddress;
              void c.remotePort;
              server.close(done);
            }),
          );
        }),
      );
    }),
  );

  // test-net-binary: every latin1 byte value echoed both ways. Adapted: the client
  // ends once all 512 echoed bytes are back (its end() closes the connection).
  it(
    'test-net-binary',
    ported((common, done) => {
      let binaryString = '';
      for (let i = 255; i >= 0; i--) binaryString += String.fromCharCode(i);
      const echoServer = new net.Server((connection: Socket) => {
        connection.setEncoding('latin1');
        connection.on('data', (chunk: string) => connection.write(chunk, 'latin1'));
        connection.on('end', () => connection.end());
      });
      echoServer.listen(0);
      let recv = '';
      echoServer.on('listening', () => {
        let j = 0;
        const c = net.createConnection({ port: echoServer.address()!.port });
        c.setEncoding('latin1');
        c.on('data', (chunk: string) => {
          const n = j + chunk.length;
          while (j < n && j < 256) {
            c.write(String.fromCharCode(j), 'latin1');
            j++;
          }
          recv += chunk;
          if (recv.length === 512) c.end();
        });
        c.on('connect', () => c.write(binaryString, 'binary'));
        c.on(
          'close',
          common.mustCall(() => {
            assert.strictEqual(recv.length, 2 * 256);
            const a = recv.split('');
            assert.strictEqual(a.slice(0, 256).reverse().join(''), a.slice(256).join(''));
            echoServer.close(done);
          }),
        );
      });
    }),
  );

  // test-net-can-reset-timeout: writing from a 'timeout' handler resets the timer.
  it(
    'test-net-can-reset-timeout',
    ported((common, done) => {
      const server = net.createServer(
        common.mustCall((stream: Socket) => {
          stream.setTimeout(100);
          stream.resume();
          stream.once(
            'timeout',
            common.mustCall(() => stream.write('WHAT.')),
          );
          stream.on(
            'end',
            common.mustCall(() => stream.end()),
          );
        }),
      );
      server.listen(
        0,
        common.mustCall(() => {
          const c = net.createConnection(server.address()!.port);
          c.on('data', () => c.end());
          c.on('end', () => server.close(done));
        }),
      );
    }),
  );

  // test-net-connect-buffer: writes and end() while connecting are queued, counted once.
  it(
    'test-net-connect-buffer',
    ported((common, done) => {
      const tcp = new net.Server(
        common.mustCall((s: Socket) => {
          tcp.close();
          let buf = '';
          s.setEncoding('utf8');
          s.on('data', (d: string) => {
            buf += d;
          });
          s.on(
            'end',
            common.mustCall(() => {
              assert.strictEqual(buf, "L'État, c'est moi");
              s.end();
            }),
          );
        }),
      );
      tcp.listen(
        0,
        common.mustCall(() => {
          const socket = new net.Stream({ highWaterMark: 0 });
          let connected = false;
          assert.strictEqual(socket.pending, true);
          socket.connect(
            tcp.address()!.port,
            common.mustCall(() => {
              connected = true;
            }),
          );
          assert.strictEqual(socket.pending, true);
          assert.strictEqual(socket.connecting, true);
          assert.strictEqual(socket.readyState, 'opening');
          const a = "L'État, c'est ";
          const b = 'moi';
          const r = socket.write(
            a,
            common.mustCall(() => {
              assert.ok(connected);
              assert.strictEqual(socket.bytesWritten, Buffer.from(a + b).length);
              assert.strictEqual(socket.pending, false);
            }),
          );
          socket.on(
            'close',
            common.mustCall(() => {
              assert.strictEqual(socket.pending, true);
              done();
            }),
          );
          assert.strictEqual(socket.bytesWritten, Buffer.from(a).length);
          assert.strictEqual(r, false);
          socket.end(b);
          assert.strictEqual(socket.readyState, 'opening');
        }),
      );
    }),
  );

  // test-net-end-without-connect
  it(
    'test-net-end-without-connect',
    ported((common, done) => {
      const sock = new net.Socket();
      sock.end(
        common.mustCall(() => {
          assert.strictEqual(sock.writable, false);
          done();
        }),
      );
    }),
  );

  // test-net-large-string: 40 Ki multi-byte characters, then end.
  it(
    'test-net-large-string',
    ported((common, done) => {
      const kPoolSize = 40 * 1024;
      const data = 'あ'.repeat(kPoolSize);
      const server = net.createServer(
        common.mustCall((socket: Socket) => {
          let receivedSize = 0;
          socket.setEncoding('utf8');
          socket.on('data', (d: string) => {
            receivedSize += d.length;
          });
          socket.on(
            'end',
            common.mustCall(() => {
              assert.strictEqual(receivedSize, kPoolSize);
              socket.end();
            }),
          );
        }),
      );
      server.listen(0, () => {
        const client = net.createConnection(server.address()!.port);
        client.on('end', () => server.close(done));
        client.write(data, 'utf8');
        client.end();
      });
    }),
  );

  // test-net-local-address-port
  it(
    'test-net-local-address-port',
    ported((common, done) => {
      const server = net.createServer(
        common.mustCall((socket: Socket) => {
          assert.strictEqual(socket.localAddress, common.localhostIPv4);
          assert.strictEqual(socket.localPort, server.address()!.port);
          assert.strictEqual(socket.localFamily, server.address()!.family);
          socket.on('end', () => server.close(done));
          socket.resume();
        }),
      );
      server.listen(0, common.localhostIPv4, () => {
        const client = net.createConnection(server.address()!.port, common.localhostIPv4);
        client.on('connect', () => client.end());
      });
    }),
  );

  // test-net-reconnect: one Socket object connects again after each close (N = 20 here).
  it(
    'test-net-reconnect',
    ported((common, done) => {
      const N = 20;
      let clientRecv = 0;
      let clientEnd = 0;
      let disconnects = 0;
      const server = net.createServer((socket: Socket) => {
        socket.resume();
        socket.write('hello\r\n');
        socket.on('end', () => socket.end());
        socket.on(
          'close',
          common.guard((hadError: boolean) => assert.strictEqual(hadError, false)),
        );
      });
      server.listen(0, () => {
        const client = net.createConnection(server.address()!.port);
        client.setEncoding('utf8');
        client.on('data', (chunk: string) => {
          clientRecv++;
          common.guard(() => assert.strictEqual(chunk, 'hello\r\n'))();
          client.end();
        });
        client.on('end', () => clientEnd++);
        client.on(
          'close',
          common.guard((hadError: boolean) => {
            assert.strictEqual(hadError, false);
            if (disconnects++ < N) client.connect(server.address()!.port);
            else
              server.close(() => {
                assert.strictEqual(disconnects, N + 1);
                assert.strictEqual(clientRecv, N + 1);
                assert.strictEqual(clientEnd, N + 1);
                done();
              });
          }),
        );
      });
    }),
  );

  // test-net-connect-immediate-destroy: destroyed before it connects: no connect, no error.
  it(
    'test-net-connect-immediate-destroy',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, () => {
        const socket = net.connect(server.address()!.port, '127.0.0.1', common.mustNotCall());
        socket.on('error', common.mustNotCall());
        socket.on(
          'close',
          common.mustCall(() => server.close(done)),
        );
        socket.destroy();
      });
    }),
  );

  // test-net-connect-destroy: a socket that never connected closes on destroy().
  it(
    'test-net-connect-destroy',
    ported((common, done) => {
      const socket = new net.Socket();
      socket.on('close', common.mustCall(done));
      socket.destroy();
    }),
  );

  // test-net-connect-after-destroy
  it(
    'test-net-connect-after-destroy',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, () => {
        const c = net.createConnection(server.address()!.port);
        c.on('connect', common.mustNotCall());
        c.on('close', () => server.close(done));
        c.destroy();
      });
    }),
  );

  // test-net-during-close: properties of a socket read while its server closes.
  it(
    'test-net-during-close',
    ported((common, done) => {
      const server = net.createServer((socket: Socket) => socket.end());
      server.listen(
        0,
        common.mustCall(() => {
          const client = net.createConnection(
            server.address()!.port,
            common.mustCall(() => {
              server.close(done);
              void client.remoteAddress;
              void client.remoteFamily;
              void client.remotePort;
              client.end();
            }),
          );
          client.resume();
        }),
      );
    }),
  );

  // test-net-remote-address-port: both ends see the right remote address, port and family.
  it(
    'test-net-remote-address-port',
    ported((common, done) => {
      let connCount = 0;
      const server = net.createServer(
        common.mustCall((socket: Socket) => {
          connCount++;
          assert.strictEqual(socket.remoteAddress, '127.0.0.1');
          assert.strictEqual(socket.remoteFamily, 'IPv4');
          assert.ok(socket.remotePort! > 0);
          assert.notStrictEqual(socket.remotePort, server.address()!.port);
          socket.on('end', () => {
            if (connCount === 2) server.close(done);
          });
          socket.resume();
        }, 2),
      );
      server.listen(0, '127.0.0.1', () => {
        const port = server.address()!.port;
        for (const client of [
          net.createConnection(port, '127.0.0.1'),
          net.createConnection(port, '127.0.0.1'),
        ]) {
          client.on(
            'connect',
            common.mustCall(() => {
              assert.strictEqual(client.remoteAddress, '127.0.0.1');
              assert.strictEqual(client.remoteFamily, 'IPv4');
              assert.strictEqual(client.remotePort, port);
              client.end();
            }),
          );
        }
      });
    }),
  );

  // test-net-socket-destroy-twice: destroy() from an 'error' handler closes once.
  it(
    'test-net-socket-destroy-twice',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, () => {
        const port = server.address()!.port;
        server.close(() => {
          const conn = net.createConnection(port, '127.0.0.1');
          conn.on(
            'error',
            common.mustCall(() => conn.destroy()),
          );
          conn.on('close', common.mustCall(done));
        });
      });
    }),
  );

  // test-net-socket-close-after-end: 'end' comes before 'close'.
  it(
    'test-net-socket-close-after-end',
    ported((common, done) => {
      const server = net.createServer((s: Socket) => s.end());
      server.listen(0, () => {
        const client = net.connect(server.address()!.port, '127.0.0.1');
        const events: string[] = [];
        client.on('end', () => {
          events.push('end');
        });
        client.on(
          'close',
          common.mustCall(() => {
            events.push('close');
            assert.deepStrictEqual(events, ['end', 'close']);
            server.close(done);
          }),
        );
        client.resume();
      });
    }),
  );

  // test-net-socket-write-after-close: write after end() fails through the callback.
  it(
    'test-net-socket-write-after-close',
    ported((common, done) => {
      const server = net.createServer((s: Socket) => s.resume());
      server.listen(0, () => {
        const client = net.connect(server.address()!.port, '127.0.0.1', () => {
          client.end();
          client.on('error', common.mustCall());
          client.write(
            'x',
            common.mustCall((err?: Error | null) => {
              assert.strictEqual((err as NodeJS.ErrnoException).code, 'ERR_STREAM_WRITE_AFTER_END');
              client.destroy();
              server.close(done);
            }),
          );
        });
      });
    }),
  );

  // test-net-socket-destroy-send: write after destroy() fails with ERR_STREAM_DESTROYED.
  it(
    'test-net-socket-destroy-send',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, () => {
        const conn = net.createConnection(server.address()!.port, '127.0.0.1');
        conn.on(
          'connect',
          common.mustCall(() => {
            conn.destroy();
            conn.write(
              Buffer.from('hello'),
              common.mustCall((err?: Error | null) => {
                assert.strictEqual((err as NodeJS.ErrnoException).code, 'ERR_STREAM_DESTROYED');
                server.close(done);
              }),
            );
          }),
        );
      });
    }),
  );

  // test-net-write-cb-on-destroy-before-connect
  it(
    'test-net-write-cb-on-destroy-before-connect',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, () => {
        const socket = new net.Socket();
        socket.on('connect', common.mustNotCall());
        socket.connect({ port: server.address()!.port });
        assert(socket.connecting);
        socket.write(
          'foo',
          common.mustCall((err?: Error | null) => {
            assert.strictEqual(
              (err as NodeJS.ErrnoException).code,
              'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
            );
            server.close(done);
          }),
        );
        socket.destroy();
      });
    }),
  );

  // test-net-socket-connecting
  it(
    'test-net-socket-connecting',
    ported((common, done) => {
      const server = net.createServer((conn: Socket) => {
        conn.end();
        server.close(done);
      });
      server.listen(0, () => {
        const client = net.connect(
          server.address()!.port,
          common.mustCall(() => {
            assert.strictEqual(client.connecting, false);
            client.end();
          }),
        );
        assert.strictEqual(client.connecting, true);
        client.resume();
      });
    }),
  );

  // test-net-socket-ready-after-connect ('ready' follows 'connect')
  it(
    'test-net-socket-ready-without-cb',
    ported((common, done) => {
      const server = net.createServer((s: Socket) => s.resume());
      server.listen(0, () => {
        const order: string[] = [];
        const client = net.connect(server.address()!.port);
        client.on('connect', () => order.push('connect'));
        client.on(
          'ready',
          common.mustCall(() => {
            order.push('ready');
            assert.deepStrictEqual(order, ['connect', 'ready']);
            client.end();
            server.close(done);
          }),
        );
      });
    }),
  );

  // test-net-bytes-written-large: one large write, counted exactly once.
  it(
    'test-net-bytes-written-large',
    ported((common, done) => {
      const N = 10_000_000;
      const server = net.createServer(
        common.mustCall((socket: Socket) => {
          let got = 0;
          socket.on('data', (c: Buffer) => {
            got += c.length;
          });
          socket.on(
            'end',
            common.mustCall(() => {
              assert.strictEqual(got, N);
              socket.end();
            }),
          );
        }),
      );
      server.listen(0, () => {
        const client = net.connect(server.address()!.port);
        client.end(Buffer.alloc(N));
        client.on(
          'finish',
          common.mustCall(() => assert.strictEqual(client.bytesWritten, N)),
        );
        client.on('close', () => server.close(done));
        client.resume();
      });
    }, 30_000),
  );

  // test-net-socket-end-callback: end(cb) calls cb once the data is out.
  it(
    'test-net-socket-end-callback',
    ported((common, done) => {
      const server = net.createServer((s: Socket) => s.resume());
      server.listen(0, () => {
        const client = net.connect(server.address()!.port, () => {
          client.end(
            'data',
            common.mustCall(() => {
              assert.strictEqual(client.writable, false);
              server.close(done);
            }),
          );
        });
      });
    }),
  );

  // test-net-dns-lookup: a name is resolved and 'lookup' reports it.
  it(
    'test-net-dns-lookup',
    ported((common, done) => {
      const server = net.createServer((client: Socket) => {
        client.end();
        server.close(done);
      });
      server.listen(0, '127.0.0.1', () => {
        net
          .connect(server.address()!.port, 'localhost')
          .on(
            'lookup',
            common.mustCall((err: Error | null, ip: string, type: number, host: string) => {
              assert.strictEqual(err, null);
              assert.strictEqual(ip, '127.0.0.1');
              assert.strictEqual(type, 4);
              assert.strictEqual(host, 'localhost');
            }),
          )
          .resume();
      });
    }),
  );

  // test-net-settimeout: a timeout set then cleared never fires.
  it(
    'test-net-settimeout',
    ported((common, done) => {
      const T = 100;
      const server = net.createServer((c: Socket) => c.write('hello'));
      server.listen(0, () => {
        const socket = net.createConnection(server.address()!.port, 'localhost');
        const s = socket.setTimeout(T, common.mustNotCall());
        assert.ok(s instanceof net.Socket);
        socket.on(
          'data',
          common.mustCall(() => {
            setTimeout(() => {
              socket.destroy();
              server.close(done);
            }, T * 2);
          }),
        );
        socket.setTimeout(0);
      });
    }),
  );

  // test-net-socket-timeout: invalid msecs throw; a valid timeout fires.
  it(
    'test-net-socket-timeout',
    ported((common, done) => {
      const socket = new net.Socket();
      for (const bad of [-1, Number.POSITIVE_INFINITY])
        assert.throws(() => socket.setTimeout(bad), { code: 'ERR_OUT_OF_RANGE' });
      for (const bad of ['100', true, false, [], {}])
        assert.throws(() => socket.setTimeout(bad as unknown as number), {
          code: 'ERR_INVALID_ARG_TYPE',
        });
      const server = net.createServer((s: Socket) => s.resume());
      server.listen(
        0,
        common.mustCall(() => {
          const s = net.connect(server.address()!.port);
          s.setTimeout(
            50,
            common.mustCall(() => {
              s.destroy();
              server.close(done);
            }),
          );
        }),
      );
    }),
  );

  // test-net-write-slow: a slow (paused) reader still gets every byte.
  it(
    'test-net-write-slow',
    ported((common, done) => {
      const SIZE = 2e5;
      const N = 10;
      let flushed = 0;
      let received = 0;
      const buf = Buffer.alloc(SIZE, 'a');
      const server = net.createServer((socket: Socket) => {
        socket.setNoDelay();
        socket.setTimeout(9999);
        socket.on('timeout', common.mustNotCall());
        for (let i = 0; i < N; ++i) socket.write(buf, () => ++flushed);
        socket.end();
      });
      server.listen(0, () => {
        const conn = net.connect(server.address()!.port);
        conn.on('data', (d: Buffer) => {
          received += d.length;
          conn.pause();
          setTimeout(() => conn.resume(), 5);
        });
        conn.on(
          'end',
          common.mustCall(() => {
            server.close(() => {
              assert.strictEqual(received, SIZE * N);
              assert.strictEqual(flushed, N);
              done();
            });
          }),
        );
      });
    }, 30_000),
  );
});
