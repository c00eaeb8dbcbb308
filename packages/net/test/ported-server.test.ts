// Ports of Node's test/parallel/test-net-*.js (servers, listen, arguments), adapted
// to import @demi/net and to run under vitest on each LibOS. See the README's table.
import assert from 'node:assert';
import { describe, it } from 'vitest';
import net, { type Server, type Socket } from '../src/index.js';
import { LIBOSES, onLibOS, ported } from './support/common.js';

describe.each(LIBOSES)('node:net tests (servers) on %s', (name) => {
  onLibOS(name);

  // test-net-server-close: close() returns the server; 'close' once both connections close.
  it(
    'test-net-server-close',
    ported((common, done) => {
      const sockets: Socket[] = [];
      const server = net.createServer((c: Socket) => {
        c.on('close', common.mustCall());
        sockets.push(c);
        if (sockets.length === 2) {
          assert.strictEqual(server.close(), server);
          for (const s of sockets) s.destroy();
        }
      });
      server.on('close', common.mustCall(done));
      assert.strictEqual(
        server,
        server.listen(0, () => {
          net.createConnection(server.address()!.port).on('error', () => {});
          net.createConnection(server.address()!.port).on('error', () => {});
        }),
      );
    }),
  );

  // test-net-server-drop-connections: maxConnections 0 and 1 emit 'drop' with addresses.
  it(
    'test-net-server-drop-connections',
    ported((common, done) => {
      let firstSocket: Socket | undefined;
      let closed = 0;
      const bothClosed = (): void => {
        if (++closed === 2) done();
      };
      const dormantServer = net.createServer(common.mustNotCall());
      const server = net.createServer(
        common.mustCall((socket: Socket) => {
          firstSocket = socket;
        }),
      );
      dormantServer.maxConnections = 0;
      server.maxConnections = 1;
      const checkDrop = (data: Record<string, unknown>): void => {
        for (const key of [
          'localAddress',
          'localPort',
          'remoteAddress',
          'remotePort',
          'remoteFamily',
        ])
          assert.strictEqual(!!data[key], true, key);
      };
      dormantServer.on(
        'drop',
        common.mustCall((data: Record<string, unknown>) => {
          checkDrop(data);
          dormantServer.close(bothClosed);
        }),
      );
      server.on(
        'drop',
        common.mustCall((data: Record<string, unknown>) => {
          checkDrop(data);
          firstSocket!.destroy();
          server.close(bothClosed);
        }),
      );
      const quiet = (s: Socket): Socket => s.on('error', () => {}).resume();
      dormantServer.listen(0, () => quiet(net.createConnection(dormantServer.address()!.port)));
      server.listen(0, () => {
        quiet(net.createConnection(server.address()!.port));
        quiet(net.createConnection(server.address()!.port));
      });
    }),
  );

  // test-net-eaddrinuse / test-net-bind-twice: a second listen on a port in use fails.
  it(
    'test-net-eaddrinuse',
    ported((common, done) => {
      const server1 = net.createServer();
      const server2 = net.createServer();
      server2.on(
        'error',
        common.mustCall((error: NodeJS.ErrnoException) => {
          assert.strictEqual(error.code, 'EADDRINUSE');
          assert.strictEqual(error.syscall, 'listen');
          server1.close(done);
        }),
      );
      server1.listen(0, '127.0.0.1', () => server2.listen(server1.address()!.port, '127.0.0.1'));
    }),
  );

  // test-net-listen-close-server: closed before listening: no 'listening', no error.
  it(
    'test-net-listen-close-server',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, common.mustNotCall());
      server.on('error', common.mustNotCall());
      server.on('close', common.mustCall(done));
      server.close();
    }),
  );

  // test-net-listen-close-server-callback-is-not-function
  it(
    'test-net-listen-close-server-callback-is-not-function',
    ported((common, done) => {
      const server = net.createServer(common.mustNotCall());
      server.on('close', common.mustCall(done));
      server.listen(0, common.mustNotCall());
      server.close('not a function' as never);
    }),
  );

  // test-net-listen-invalid-port
  it(
    'test-net-listen-invalid-port',
    ported((common, done) => {
      const invalidPort = -1 >>> 0;
      new net.Server().listen(
        0,
        common.mustCall(function (this: Server) {
          assert.strictEqual(typeof this.address()!.port, 'number');
          this.close(done);
        }),
      );
      assert.throws(() => new net.Server().listen(invalidPort), { code: 'ERR_SOCKET_BAD_PORT' });
      assert.throws(() => new net.Server().listen({ port: invalidPort }), {
        code: 'ERR_SOCKET_BAD_PORT',
      });
      assert.throws(() => new net.Server().listen({ port: -1 }), {
        code: 'ERR_SOCKET_BAD_PORT',
        message: /^options\.port should be >= 0 and < 65536/,
      });
    }),
  );

  // test-net-server-call-listen-multiple-times
  it(
    'test-net-server-call-listen-multiple-times',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(
        0,
        common.mustCall(() => {
          assert.throws(() => server.listen(), { code: 'ERR_SERVER_ALREADY_LISTEN' });
          server.close(
            common.mustCall(() => {
              // Listening again after close works.
              server.listen(
                0,
                common.mustCall(() => server.close(done)),
              );
            }),
          );
        }),
      );
      assert.throws(() => server.listen(), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    }),
  );

  // test-net-listening
  it(
    'test-net-listening',
    ported((common, done) => {
      const server = net.createServer();
      assert.strictEqual(server.listening, false);
      server.listen(
        0,
        common.mustCall(() => {
          assert.strictEqual(server.listening, true);
          server.close(
            common.mustCall(() => {
              assert.strictEqual(server.listening, false);
              done();
            }),
          );
        }),
      );
    }),
  );

  // test-net-server-listen-options: listen({port}), listen({port, host}), and bad options.
  it(
    'test-net-server-listen-options',
    ported((common, done) => {
      let open = 0;
      const close = (s: Server): void => {
        open++;
        s.close(() => {
          if (--open === 0) done();
        });
      };
      const a = net.createServer().listen(
        { port: 0 },
        common.mustCall(() => close(a)),
      );
      const b = net.createServer().listen(
        { port: 0, host: '127.0.0.1' },
        common.mustCall(() => {
          assert.strictEqual(b.address()!.address, '127.0.0.1');
          close(b);
        }),
      );
      const c = net.createServer().listen(
        0,
        '127.0.0.1',
        128,
        common.mustCall(() => close(c)),
      );
      for (const bad of [{}, { host: 'localhost' }, { port: undefined }])
        assert.throws(() => net.createServer().listen(bad), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => net.createServer().listen({ port: 65536 }), {
        code: 'ERR_SOCKET_BAD_PORT',
      });
    }),
  );

  // test-net-server-listen-remove-callback: the listen callback is a 'listening' once-listener.
  it(
    'test-net-server-listen-remove-callback',
    ported((common, done) => {
      const server = net.createServer();
      const listener = (): void => {};
      server.on('close', () => {
        assert.strictEqual(server.listeners('listening').length, 0);
        done();
      });
      server.listen(
        0,
        common.mustCall(() => {
          server.close();
        }),
      );
      server.once('listening', listener);
      server.removeListener('listening', listener);
    }),
  );

  // test-net-server-async-dispose
  it(
    'test-net-server-async-dispose',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(
        0,
        common.mustCall(async () => {
          await server[Symbol.asyncDispose]();
          assert.strictEqual(server.listening, false);
          done();
        }),
      );
    }),
  );

  // test-net-server-max-connections: connections past the limit are closed by the server.
  it(
    'test-net-server-max-connections',
    ported((common, done) => {
      const N = 6;
      const server = net.createServer((s: Socket) => s.resume());
      server.maxConnections = 3;
      server.listen(0, () => {
        let closedByServer = 0;
        let connected = 0;
        const clients: Socket[] = [];
        for (let i = 0; i < N; i++) {
          const c = net.connect(server.address()!.port);
          clients.push(c);
          c.on('error', () => {});
          c.on('end', () => closedByServer++);
          c.resume();
        }
        server.on('connection', () => connected++);
        setTimeout(
          common.mustCall(() => {
            assert.strictEqual(connected + 3, N);
            server.getConnections(
              common.mustSucceed((n: number) => {
                assert.strictEqual(n, 3);
                for (const c of clients) c.destroy();
                server.close(() => {
                  assert.strictEqual(closedByServer, N - 3);
                  done();
                });
              }),
            );
          }),
          300,
        );
      });
    }),
  );

  // test-net-server-getconnections (from test-net-server-max-connections-close-makes-more-available)
  it(
    'test-net-server-max-connections-close-makes-more-available',
    ported((common, done) => {
      const server = net.createServer((s: Socket) => s.resume());
      server.maxConnections = 1;
      server.listen(0, () => {
        const port = server.address()!.port;
        const first = net.connect(port);
        server.once(
          'connection',
          common.mustCall((s: Socket) => {
            s.on('close', () => {
              // The slot is free again: the next connection is served.
              server.once(
                'connection',
                common.mustCall((s2: Socket) => {
                  s2.destroy();
                  server.close(done);
                }),
              );
              net
                .connect(port)
                .resume()
                .on('error', () => {});
            });
            first.destroy();
          }),
        );
      });
    }),
  );

  // test-net-server-listen-options-signal: an aborted signal closes the server.
  it(
    'test-net-server-listen-options-signal',
    ported((common, done) => {
      const before = new AbortController();
      before.abort();
      const early = net.createServer();
      early.on('close', common.mustCall());
      early.listen({ port: 0, signal: before.signal });
      const controller = new AbortController();
      const server = net.createServer();
      server.on(
        'close',
        common.mustCall(() => {
          assert.strictEqual(server.listening, false);
          done();
        }),
      );
      server.listen({ port: 0, signal: controller.signal }, () => controller.abort());
    }),
  );

  // test-net-access-byteswritten: the getter works on the prototype (no crash).
  it(
    'test-net-access-byteswritten',
    ported((_common, done) => {
      assert.strictEqual(net.Socket.prototype.bytesWritten, undefined);
      done();
    }),
  );

  // test-net-isip, test-net-isipv4, test-net-isipv6 (a selection of their cases)
  it(
    'test-net-isip',
    ported((_common, done) => {
      assert.strictEqual(net.isIP('127.0.0.1'), 4);
      assert.strictEqual(net.isIP('x127.0.0.1'), 0);
      assert.strictEqual(net.isIP('example.com'), 0);
      assert.strictEqual(net.isIP('0000:0000:0000:0000:0000:0000:0000:0000'), 6);
      assert.strictEqual(net.isIP('1050:0:0:0:5:600:300c:326b'), 6);
      assert.strictEqual(net.isIP('2001:252:0:1::2008:6'), 6);
      assert.strictEqual(net.isIP('::2:3:4:5:6:7:8'), 6);
      assert.strictEqual(net.isIP('0000:0000:0000:0000:0000:0000:12345:0000'), 0);
      assert.strictEqual(net.isIP(''), 0);
      assert.strictEqual(net.isIP(undefined as unknown as string), 0);
      assert.strictEqual(net.isIP(5 as unknown as string), 0);
      done();
    }),
  );

  it(
    'test-net-isipv4',
    ported((_common, done) => {
      for (const ip of ['0.0.0.0', '8.8.8.8', '127.0.0.1', '100.100.100.100', '192.168.0.1'])
        assert.strictEqual(net.isIPv4(ip), true, ip);
      for (const ip of ['192.168.1.1.1', '1.2.3.256', '-1.2.3.4', '', 'x', '::1', '1.2.3'])
        assert.strictEqual(net.isIPv4(ip), false, ip);
      done();
    }),
  );

  it(
    'test-net-isipv6',
    ported((_common, done) => {
      for (const ip of ['::1', '::', '2001:db8::', 'fe80::1%eth0', '::ffff:127.0.0.1'])
        assert.strictEqual(net.isIPv6(ip), true, ip);
      for (const ip of ['127.0.0.1', ':::', '2001:db8:::1', '', 'x', '1:2:3:4:5:6:7:8:9'])
        assert.strictEqual(net.isIPv6(ip), false, ip);
      done();
    }),
  );

  // test-net-connect-no-arg
  it(
    'test-net-connect-no-arg',
    ported((_common, done) => {
      const message = 'The "options" or "port" or "path" argument must be specified';
      for (const call of [
        () => (net.connect as () => void)(),
        () => (net.createConnection as () => void)(),
        () => (new net.Socket().connect as () => void)(),
        () => net.connect({}),
        () => net.createConnection({}),
        () => new net.Socket().connect({}),
      ])
        assert.throws(call, { code: 'ERR_MISSING_ARGS', message });
      done();
    }),
  );

  // test-net-connect-options-port: bad ports throw ERR_INVALID_ARG_TYPE or ERR_SOCKET_BAD_PORT.
  it(
    'test-net-connect-options-port',
    ported((_common, done) => {
      for (const port of [true, false, [], {}, null])
        assert.throws(() => net.connect({ port: port as never }), {
          code: 'ERR_INVALID_ARG_TYPE',
        });
      for (const port of [
        '',
        ' ',
        '0x',
        '-0x1',
        '-0o1',
        '-0b1',
        '0o',
        '0b',
        -1,
        65536,
        1.5,
        '1.5',
        Number.NaN,
        Number.POSITIVE_INFINITY,
      ])
        assert.throws(() => net.connect({ port: port as never }), {
          code: 'ERR_SOCKET_BAD_PORT',
        });
      for (const port of [-1, 65536, '-1'])
        assert.throws(() => net.connect(port as never), { code: 'ERR_SOCKET_BAD_PORT' });
      done();
    }),
  );

  // test-net-localerror: bad localAddress / localPort.
  it(
    'test-net-localerror',
    ported((_common, done) => {
      assert.throws(
        () => net.connect({ host: 'localhost', port: 0, localPort: 'foobar' as never }),
        {
          code: 'ERR_INVALID_ARG_TYPE',
          message:
            'The "options.localPort" property must be of type number. Received type string (\'foobar\')',
        },
      );
      assert.throws(() => net.connect({ host: 'localhost', port: 0, localAddress: 'foobar' }), {
        code: 'ERR_INVALID_IP_ADDRESS',
        message: 'Invalid IP address: foobar',
      });
      done();
    }),
  );

  // test-net-server-options: createServer rejects non-object options.
  it(
    'test-net-server-options',
    ported((_common, done) => {
      assert.throws(() => net.createServer('path' as never), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => net.createServer(0 as never), { code: 'ERR_INVALID_ARG_TYPE' });
      done();
    }),
  );

  // test-net-connect-options-invalid (family)
  it(
    'test-net-connect-options-invalid',
    ported((_common, done) => {
      assert.throws(() => net.createConnection({ host: 'localhost', port: 80, family: 5 }), {
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The property 'options.family' must be one of: 0, 4, 6. Received 5",
      });
      done();
    }),
  );

  // Not from Node's suite: the refused-connect error's full shape.
  it(
    'connect refused: the error node:net gives (not a port)',
    ported((common, done) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        const port = server.address()!.port;
        server.close(() => {
          const c = net.connect(port, '127.0.0.1');
          c.on(
            'error',
            common.mustCall((e: NodeJS.ErrnoException & { address: string; port: number }) => {
              assert.strictEqual(e.code, 'ECONNREFUSED');
              assert.strictEqual(e.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
              assert.strictEqual(e.address, '127.0.0.1');
              assert.strictEqual(e.port, port);
            }),
          );
          c.on('close', common.mustCall(done));
        });
      });
    }),
  );
});
