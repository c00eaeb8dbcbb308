import { expect } from 'vitest';
import {
  AF_INET,
  IPPROTO_TCP,
  Opcode,
  SO_KEEPALIVE,
  SO_LINGER,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from '../constants.js';
import { ERRNO } from '../errors.js';
import { MAX_SGA_SIZE } from '../validate.js';
import { connectingSocket, openChannel, tryClose } from './channel.js';
import {
  bytes,
  connectPair,
  equalBytes,
  expectDemiError,
  expectRejects,
  OP_TIMEOUT_MS,
  ok,
  pattern,
  popExactly,
  sgaOf,
} from './helpers.js';
import type { Scenario } from './target.js';

/**
 * The rules of the contract (core's README, "The rules"): one scenario per
 * rule, so a LibOS that answers differently fails by name.
 */
export const contractScenarios: Scenario[] = [
  {
    name: 'rule: connect on a listening socket is ENOTSUP; listen twice is EADDRINUSE',
    needs: 'tcp',
    async run(env) {
      const { server } = env;
      const qd = server.socket(AF_INET, SOCK_STREAM);
      const port = env.nextPort();
      server.bind(qd, { address: env.serverAddress, port });
      server.listen(qd, 4);
      const err = expectDemiError(
        () => server.connect(qd, { address: env.serverAddress, port }),
        'ENOTSUP',
      );
      expect(err.errno).toBe(95);
      expectDemiError(() => server.listen(qd, 4), 'EADDRINUSE');
      // A pending accept does not change the answer.
      const accepting = server.accept(qd);
      expectDemiError(() => server.connect(qd, { address: env.serverAddress, port }), 'ENOTSUP');
      server.close(qd);
      expect((await server.wait(accepting, OP_TIMEOUT_MS)).ret).toBe(ERRNO.ECANCELED);
    },
  },
  {
    name: 'rule: while connecting, connect is EINPROGRESS and listen EADDRINUSE; once connected, EISCONN',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const { qd, qt, listener } = await connectingSocket(env);
      const target = { address: env.serverAddress, port: server.getsockname(listener).port };
      const acceptQt = server.accept(listener);
      let again: unknown;
      try {
        client.connect(qd, target);
      } catch (err) {
        again = err;
      }
      if ((again as { code?: string }).code === 'EISCONN') {
        // Only a LibOS that completed the connect inside the call may say so.
        expect(client.waitSync(qt, 0).opcode).toBe(Opcode.CONNECT);
      } else {
        expect(again).toMatchObject({ code: 'EINPROGRESS', errno: ERRNO.EINPROGRESS });
        expectDemiError(() => client.listen(qd, 4), 'EADDRINUSE');
        expectDemiError(() => client.push(qd, sgaOf('early')), 'ENOTCONN');
        await ok(client, qt, Opcode.CONNECT);
      }
      const accepted = await ok(server, acceptQt, Opcode.ACCEPT);
      expectDemiError(() => client.connect(qd, target), 'EISCONN');
      expectDemiError(() => client.listen(qd, 4), 'EISCONN');
      expectDemiError(() => client.accept(qd), 'EISCONN');
      expectDemiError(() => client.bind(qd, { address: env.serverAddress, port: 0 }), 'EINVAL');
      client.close(qd);
      server.close(accepted.accepted!.qd);
      server.close(listener);
    },
  },
  {
    name: 'rule: push and pop on an unconnected stream socket are ENOTCONN at the call',
    needs: 'tcp',
    async run(env) {
      const { server } = env;
      const qd = server.socket(AF_INET, SOCK_STREAM);
      expectDemiError(() => server.push(qd, sgaOf('x')), 'ENOTCONN');
      expectDemiError(() => server.pop(qd), 'ENOTCONN');
      server.bind(qd, { address: env.serverAddress, port: env.nextPort() });
      expectDemiError(() => server.push(qd, sgaOf('x')), 'ENOTCONN');
      expectDemiError(() => server.pop(qd), 'ENOTCONN');
      expectDemiError(() => server.accept(qd), 'EINVAL');
      server.listen(qd, 4);
      expectDemiError(() => server.push(qd, sgaOf('x')), 'ENOTCONN');
      expectDemiError(() => server.pop(qd), 'ENOTCONN');
      server.close(qd);
    },
  },
  {
    name: 'rule: a failed connect leaves the socket closed: every call but close is EBADF',
    needs: 'tcp',
    async run(env) {
      const { client } = env;
      const qd = client.socket(AF_INET, SOCK_STREAM);
      const port = env.nextPort();
      // The wildcard: the client may have an address of its own (two stacks).
      client.bind(qd, { address: '0.0.0.0', port });
      const target = { address: env.serverAddress, port: env.closedPort() };
      const result = await client.wait(client.connect(qd, target), OP_TIMEOUT_MS);
      expect(result.opcode).toBe(Opcode.FAILED);
      expect(result.ret).toBe(ERRNO.ECONNREFUSED);
      expectDemiError(() => client.listen(qd, 4), 'EBADF');
      expectDemiError(() => client.connect(qd, target), 'EBADF');
      expectDemiError(() => client.getsockname(qd), 'EBADF');
      expectDemiError(() => client.push(qd, sgaOf('x')), 'EBADF');
      expectDemiError(() => client.pop(qd), 'EBADF');
      client.close(qd);
      expectDemiError(() => client.close(qd), 'EBADF');
      // Its address is free again.
      const again = client.socket(AF_INET, SOCK_STREAM);
      client.bind(again, { address: '0.0.0.0', port });
      client.close(again);
    },
  },
  {
    name: 'rule: binding an address another socket holds is EADDRINUSE at bind, listening or not',
    needs: 'tcp',
    async run(env) {
      const { server } = env;
      const port = env.nextPort();
      const a = server.socket(AF_INET, SOCK_STREAM);
      server.bind(a, { address: env.serverAddress, port });
      const b = server.socket(AF_INET, SOCK_STREAM);
      expectDemiError(() => server.bind(b, { address: env.serverAddress, port }), 'EADDRINUSE');
      expectDemiError(() => server.bind(b, { address: '0.0.0.0', port }), 'EADDRINUSE');
      server.close(a);
      server.bind(b, { address: env.serverAddress, port });
      server.listen(b, 4);
      server.close(b);
    },
  },
  {
    name: 'rule: a push or pushto of zero bytes is EINVAL',
    needs: ['tcp', 'udp', 'pipe'],
    async run(env, caps) {
      const { server } = env;
      if (caps.has('tcp') || caps.has('pipe')) {
        const ch = await openChannel(env, caps);
        expectDemiError(() => ch.a.push(ch.aQd, { segments: [] }), 'EINVAL');
        expectDemiError(() => ch.a.push(ch.aQd, sgaOf(new Uint8Array(0))), 'EINVAL');
        expectDemiError(
          () => ch.a.push(ch.aQd, { segments: [new Uint8Array(0), new Uint8Array(0)] }),
          'EINVAL',
        );
        ch.close();
      }
      if (caps.has('udp')) {
        const qd = server.socket(AF_INET, SOCK_DGRAM);
        const to = { address: env.serverAddress, port: env.nextPort() };
        expectDemiError(() => server.pushto(qd, { segments: [] }, to), 'EINVAL');
        server.close(qd);
      }
    },
  },
  {
    name: 'rule: pop on an unbound datagram socket is EDESTADDRREQ',
    needs: 'udp',
    async run(env) {
      const { server } = env;
      const qd = server.socket(AF_INET, SOCK_DGRAM);
      expectDemiError(() => server.pop(qd), 'EDESTADDRREQ');
      expectDemiError(() => server.listen(qd, 1), 'ENOTSUP');
      server.bind(qd, { address: env.serverAddress, port: env.nextPort() });
      const qt = server.pop(qd);
      server.close(qd);
      expect((await server.wait(qt, OP_TIMEOUT_MS)).ret).toBe(ERRNO.ECANCELED);
    },
  },
  {
    name: 'rule: waitAny scans in order; an empty list waits out its timeout',
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      await expectRejects(ch.a.waitAny([], 20), 'ETIMEDOUT');
      await expectRejects(ch.a.waitAny([]), 'EINVAL');
      expect(() => ch.a.waitAnySync([], 5)).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
      const done = ch.a.push(ch.aQd, sgaOf('one'));
      await expectRejects(ch.a.waitAny([123456789, done], 10), 'EINVAL');
      // Pushes on one queue complete in order: once '!' is done, 'one' is too.
      await ok(ch.a, ch.a.push(ch.aQd, sgaOf('two!')), Opcode.PUSH);
      const pending = ch.a.pop(ch.aQd);
      // Completed first, an invalid token after it: the completed one is handed out.
      const first = await ch.a.waitAny([done, 123456789, pending], OP_TIMEOUT_MS);
      expect(first.index).toBe(0);
      expect(first.result.opcode).toBe(Opcode.PUSH);
      expect(new TextDecoder().decode(await popExactly(ch.b, ch.bQd, 7))).toBe('onetwo!');
      ch.close();
      expect((await ch.a.wait(pending, OP_TIMEOUT_MS)).ret).toBe(ERRNO.ECANCELED);
    },
  },
  {
    name: 'rule: sgaalloc and pop sizes are 1 .. 1 MiB on every LibOS',
    needs: ['tcp', 'udp', 'pipe'],
    async run(env, caps) {
      const { server } = env;
      expect(MAX_SGA_SIZE).toBe(1 << 20);
      expectDemiError(() => server.sgaalloc(0), 'EINVAL');
      expectDemiError(() => server.sgaalloc(MAX_SGA_SIZE + 1), 'EINVAL');
      for (const size of [1, 65536, MAX_SGA_SIZE]) {
        const sga = server.sgaalloc(size);
        expect(bytes(sga).byteLength).toBe(size);
        server.sgafree(sga);
      }
      if (caps.has('tcp') || caps.has('pipe')) {
        const ch = await openChannel(env, caps);
        expectDemiError(() => ch.b.pop(ch.bQd, 0), 'EINVAL');
        expectDemiError(() => ch.b.pop(ch.bQd, MAX_SGA_SIZE + 1), 'EINVAL');
        const qt = ch.b.pop(ch.bQd, MAX_SGA_SIZE);
        const data = pattern(3 * 65536, 9);
        // Waited on from the start: a LibOS makes progress while someone waits on it.
        const pushing = ok(ch.a, ch.a.push(ch.aQd, sgaOf(data)), Opcode.PUSH);
        const got = bytes((await ok(ch.b, qt, Opcode.POP)).sga);
        expect(got.byteLength).toBeGreaterThan(0);
        expect(equalBytes(got, data.subarray(0, got.byteLength))).toBe(true);
        const rest = await popExactly(ch.b, ch.bQd, data.byteLength - got.byteLength);
        expect(equalBytes(rest, data.subarray(got.byteLength))).toBe(true);
        await pushing;
        ch.close();
      }
    },
  },
  {
    name: "rule: a pushed sga is the LibOS's until the PUSH completes, then the caller's; popped data is the caller's",
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      // Larger than any LibOS's buffers, so the push completes only as the peer pops.
      const size = 4 * 1024 * 1024;
      const original = pattern(size, 5);
      const buffer = original.slice();
      const pushQt = ch.a.push(ch.aQd, sgaOf(buffer));
      const received = new Uint8Array(size);
      let got = 0;
      let pushed = false;
      const pushing = ch.a.wait(pushQt, OP_TIMEOUT_MS).then((r) => {
        expect(r.opcode).toBe(Opcode.PUSH);
        // The buffer is the caller's again: reusing it must not change what the peer gets.
        buffer.fill(0);
        pushed = true;
      });
      const popped: Uint8Array[] = [];
      while (got < size) {
        const data = bytes((await ok(ch.b, ch.b.pop(ch.bQd), Opcode.POP)).sga);
        expect(data.byteLength).toBeGreaterThan(0);
        popped.push(data);
        received.set(data, got);
        got += data.byteLength;
      }
      await pushing;
      expect(pushed).toBe(true);
      expect(equalBytes(received, original)).toBe(true);
      // Earlier pops' arrays still hold what they held: later pops did not reuse them.
      let at = 0;
      for (const piece of popped) {
        expect(equalBytes(piece, original.subarray(at, at + piece.byteLength))).toBe(true);
        at += piece.byteLength;
      }
      ch.close();
    },
  },
  {
    name: 'rule: sgafree takes a handed-out sga once (twice is EINVAL), ignores others, never reuses held memory',
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      const own = ch.b.sgaalloc(1024);
      ch.b.sgafree(own);
      expectDemiError(() => ch.b.sgafree(own), 'EINVAL');
      // Memory the LibOS did not hand out: accepted and ignored.
      ch.b.sgafree(sgaOf(pattern(65536, 7)));
      const data = pattern(8 * 65536, 8);
      const pushing = ok(ch.a, ch.a.push(ch.aQd, sgaOf(data)), Opcode.PUSH);
      const held: { piece: Uint8Array; at: number }[] = [];
      let got = 0;
      for (let i = 0; got < data.byteLength; i++) {
        const sga = (await ok(ch.b, ch.b.pop(ch.bQd), Opcode.POP)).sga!;
        const piece = bytes(sga);
        expect(piece.byteLength).toBeGreaterThan(0);
        expect(equalBytes(piece, data.subarray(got, got + piece.byteLength))).toBe(true);
        if (i % 2 === 0) {
          // Freed: once; a second time is EINVAL; a copy of it is ignored.
          const copy = { segments: [...sga.segments] };
          ch.b.sgafree(sga);
          expectDemiError(() => ch.b.sgafree(sga), 'EINVAL');
          ch.b.sgafree(copy);
        } else held.push({ piece, at: got });
        got += piece.byteLength;
      }
      await pushing;
      // Freed memory may have backed later pops; held memory never did.
      for (const { piece, at } of held)
        expect(equalBytes(piece, data.subarray(at, at + piece.byteLength))).toBe(true);
      ch.close();
    },
  },
  {
    name: 'setsockopt/getsockopt: flags and SO_LINGER read back; unknown options are ENOPROTOOPT',
    needs: 'sockopt',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      for (const [libos, qd] of [
        [client, c.clientQd],
        [server, c.serverQd],
      ] as const) {
        libos.setsockopt(qd, SOL_SOCKET, SO_KEEPALIVE, true);
        expect(libos.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE)).toBe(true);
        libos.setsockopt(qd, SOL_SOCKET, SO_KEEPALIVE, false);
        expect(libos.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE)).toBe(false);
        libos.setsockopt(qd, IPPROTO_TCP, TCP_NODELAY, true);
        expect(libos.getsockopt(qd, IPPROTO_TCP, TCP_NODELAY)).toBe(true);
        libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 3 });
        expect(libos.getsockopt(qd, SOL_SOCKET, SO_LINGER)).toEqual({ onoff: true, linger: 3 });
        libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: false, linger: 0 });
        expect(libos.getsockopt(qd, SOL_SOCKET, SO_LINGER)).toMatchObject({ onoff: false });
        expectDemiError(() => libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, true), 'EINVAL');
        expectDemiError(() => libos.setsockopt(qd, SOL_SOCKET, 4242, true), 'ENOPROTOOPT');
        expectDemiError(() => libos.getsockopt(qd, SOL_SOCKET, 4242), 'ENOPROTOOPT');
      }
      expectDemiError(() => client.setsockopt(987654, SOL_SOCKET, SO_KEEPALIVE, true), 'EBADF');
      // The options still let data through.
      await ok(client, client.push(c.clientQd, sgaOf('opts')), Opcode.PUSH);
      expect(new TextDecoder().decode(await popExactly(server, c.serverQd, 4))).toBe('opts');
      client.close(c.clientQd);
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: 'waitNextN hands out completions nobody waits on by name, one caller at a time',
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      const named = ch.b.wait(ch.b.pop(ch.bQd), OP_TIMEOUT_MS);
      const pushes = new Set([0, 1, 2].map((i) => ch.a.push(ch.aQd, sgaOf(`m${i}`))));
      const seen: number[] = [];
      while (seen.length < pushes.size) {
        for (const r of await ch.a.waitNextN(8, OP_TIMEOUT_MS)) {
          expect(pushes.has(r.qt)).toBe(true);
          expect(r.opcode).toBe(Opcode.PUSH);
          seen.push(r.qt);
        }
      }
      expect(new Set(seen).size).toBe(3);
      // Nothing left: it times out; a second caller meanwhile is EINVAL.
      const idle = ch.a.waitNextN(1, 50);
      await expectRejects(ch.a.waitNextN(1, 10), 'EINVAL');
      await expectRejects(idle, 'ETIMEDOUT');
      await expectRejects(ch.a.waitNextN(0), 'EINVAL');
      // A token waited on by name is not handed to waitNextN.
      const popped = await named;
      expect(popped.opcode).toBe(Opcode.POP);
      expect(bytes(popped.sga).byteLength).toBeGreaterThan(0);
      ch.close();
    },
  },
  {
    name: 'rule: a loop of async waits that are always ready still lets timers run',
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      let fired = false;
      const timer = setTimeout(() => {
        fired = true;
      }, 1);
      // One byte each way per round: on most LibOSes both waits are ready at once,
      // so without the engine's slices this loop would hold the event loop to the end.
      const until = performance.now() + 2_000;
      let pushed = 0;
      let popped = 0;
      while (!fired && performance.now() < until) {
        await ok(ch.a, ch.a.push(ch.aQd, sgaOf('x')), Opcode.PUSH);
        pushed++;
        popped += bytes((await ok(ch.b, ch.b.pop(ch.bQd), Opcode.POP)).sga).byteLength;
      }
      clearTimeout(timer);
      expect(fired).toBe(true);
      await popExactly(ch.b, ch.bQd, pushed - popped);
      ch.close();
    },
  },
  {
    name: 'shutdown() completes every pending operation ECANCELED; then every call is EBADF',
    needs: ['tcp', 'pipe'],
    async run(env, caps) {
      const ch = await openChannel(env, caps);
      const pops = [ch.b.pop(ch.bQd), ch.b.pop(ch.bQd)];
      const waiting = ch.b.wait(pops[0]!);
      await ch.b.shutdown();
      const first = await waiting;
      expect(first.opcode).toBe(Opcode.FAILED);
      expect(first.ret).toBe(ERRNO.ECANCELED);
      expectDemiError(() => ch.b.pop(ch.bQd), 'EBADF');
      expectDemiError(() => ch.b.socket(AF_INET, SOCK_STREAM), 'EBADF');
      await ch.b.shutdown();
      if (ch.a !== ch.b) tryClose(ch.a, ch.aQd);
    },
  },
];
