import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AF_INET,
  Opcode,
  SO_KEEPALIVE,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
} from '../constants.js';
import { ERRNO } from '../errors.js';
import type { Capability, LibOS } from '../types.js';
import { contractScenarios } from './contract.js';
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
  pushAll,
  sgaOf,
} from './helpers.js';
import type { ConformanceEnv, ConformanceTarget, Scenario } from './target.js';

export * from './helpers.js';
export type { ConformanceEnv, ConformanceTarget, Scenario } from './target.js';

export interface ConformanceOptions {
  /** Capabilities to exercise; defaults to the server LibOS's own. */
  capabilities?: ReadonlySet<Capability>;
  /** Scenario names to leave out, with the reason printed. */
  skip?: Record<string, string>;
  /** Bytes for the bulk scenario (16 MiB by default). */
  bulkBytes?: number;
}

const basicScenarios: Scenario[] = [
  {
    name: 'TCP echo',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      await ok(client, client.push(c.clientQd, sgaOf('hello demi')), Opcode.PUSH);
      const got = await popExactly(server, c.serverQd, 10);
      await ok(server, server.push(c.serverQd, sgaOf(got)), Opcode.PUSH);
      expect(new TextDecoder().decode(await popExactly(client, c.clientQd, 10))).toBe('hello demi');
      const peer = server.getpeername(c.serverQd);
      expect(peer.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(client.getpeername(c.clientQd).address).toBe(env.serverAddress);
      expect(server.getsockname(c.listener).port).toBeGreaterThan(0);
      client.close(c.clientQd);
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: '64 concurrent connections echo',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const port = env.nextPort();
      const listener = server.socket(AF_INET, SOCK_STREAM);
      server.bind(listener, { address: env.serverAddress, port });
      server.listen(listener, 128);
      const n = 64;
      const serving = (async () => {
        const accepted: number[] = [];
        for (let i = 0; i < n; i++)
          accepted.push((await ok(server, server.accept(listener), Opcode.ACCEPT)).accepted!.qd);
        await Promise.all(
          accepted.map(async (qd) => {
            const data = await popExactly(server, qd, 4);
            await ok(server, server.push(qd, sgaOf(data)), Opcode.PUSH);
          }),
        );
        return accepted;
      })();
      const clients = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const qd = client.socket(AF_INET, SOCK_STREAM);
          await ok(
            client,
            client.connect(qd, { address: env.serverAddress, port }),
            Opcode.CONNECT,
          );
          const msg = new Uint8Array(new Uint32Array([i * 7919]).buffer);
          await ok(client, client.push(qd, sgaOf(msg)), Opcode.PUSH);
          expect(equalBytes(await popExactly(client, qd, 4), msg)).toBe(true);
          return qd;
        }),
      );
      const accepted = await serving;
      for (const qd of clients) client.close(qd);
      for (const qd of accepted) server.close(qd);
      server.close(listener);
    },
  },
  {
    name: 'bulk transfer byte-exact in both directions',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const size = (env as ConformanceEnv & { bulkBytes?: number }).bulkBytes ?? 16 * 1024 * 1024;
      const c = await connectPair(env);
      const up = pattern(size, 1);
      const down = pattern(size, 2);
      const [, gotUp, , gotDown] = await Promise.all([
        pushAll(client, c.clientQd, up),
        popExactly(server, c.serverQd, size),
        pushAll(server, c.serverQd, down),
        popExactly(client, c.clientQd, size),
      ]);
      expect(equalBytes(gotUp, up)).toBe(true);
      expect(equalBytes(gotDown, down)).toBe(true);
      client.close(c.clientQd);
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: 'EOF is a zero-length pop, after all data; closing twice is EBADF',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      await ok(client, client.push(c.clientQd, sgaOf('last words')), Opcode.PUSH);
      await ok(client, client.asyncClose(c.clientQd), Opcode.CLOSE);
      expect(new TextDecoder().decode(await popExactly(server, c.serverQd, 10))).toBe('last words');
      const eof = await ok(server, server.pop(c.serverQd), Opcode.POP);
      expect(bytes(eof.sga).byteLength).toBe(0);
      expectDemiError(() => client.close(c.clientQd), 'EBADF');
      expectDemiError(() => client.push(c.clientQd, sgaOf('x')), 'EBADF');
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: 'wait timeout keeps the token; a consumed token is EINVAL',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      const qt = server.pop(c.serverQd);
      await expectRejects(server.wait(qt, 30), 'ETIMEDOUT');
      expect(() => server.waitSync(qt, 5)).toThrow(/ETIMEDOUT/);
      await ok(client, client.push(c.clientQd, sgaOf('late')), Opcode.PUSH);
      const result = await server.wait(qt, OP_TIMEOUT_MS);
      expect(result.opcode).toBe(Opcode.POP);
      expect(result.qt).toBe(qt);
      expect(new TextDecoder().decode(bytes(result.sga))).toBe('late');
      await expectRejects(server.wait(qt), 'EINVAL');
      await expectRejects(server.wait(123456789), 'EINVAL');
      client.close(c.clientQd);
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: 'waitAny over many tokens reports the one that completed',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const pairs = [];
      for (let i = 0; i < 8; i++) pairs.push(await connectPair(env));
      const qts = pairs.map((p) => server.pop(p.serverQd));
      await ok(client, client.push(pairs[5]!.clientQd, sgaOf('five')), Opcode.PUSH);
      const { index, result } = await server.waitAny(qts, OP_TIMEOUT_MS);
      expect(index).toBe(5);
      expect(result.qd).toBe(pairs[5]!.serverQd);
      expect(new TextDecoder().decode(bytes(result.sga))).toBe('five');
      await ok(client, client.push(pairs[2]!.clientQd, sgaOf('two')), Opcode.PUSH);
      const rest = qts.filter((_, i) => i !== 5);
      const second = await server.waitAny(rest, OP_TIMEOUT_MS);
      expect(rest[second.index]).toBe(qts[2]);
      for (const p of pairs) {
        client.close(p.clientQd);
        server.close(p.serverQd);
        server.close(p.listener);
      }
    },
  },
  {
    name: 'waitSync busy-polls to completion',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      for (let i = 0; i < 16; i++) {
        client.waitSync(client.push(c.clientQd, sgaOf(`ping${i}`)), OP_TIMEOUT_MS);
        const got = server.waitSync(server.pop(c.serverQd), OP_TIMEOUT_MS);
        expect(new TextDecoder().decode(bytes(got.sga))).toBe(`ping${i}`);
      }
      client.close(c.clientQd);
      server.close(c.serverQd);
      server.close(c.listener);
    },
  },
  {
    name: 'bad arguments: EBADF, EINVAL, EDESTADDRREQ',
    needs: 'tcp',
    async run(env) {
      const { server } = env;
      expectDemiError(() => server.push(987654, sgaOf('x')), 'EBADF');
      expectDemiError(() => server.pop(-1), 'EBADF');
      expectDemiError(() => server.close(987654), 'EBADF');
      expectDemiError(() => server.socket(AF_INET, 77), 'ENOTSUP');
      const qd = server.socket(AF_INET, SOCK_STREAM);
      expectDemiError(() => server.listen(qd, 16), 'EDESTADDRREQ');
      expectDemiError(() => server.bind(qd, { address: 'nope', port: 1 }), 'EINVAL');
      expectDemiError(() => server.bind(qd, { address: env.serverAddress, port: 70000 }), 'EINVAL');
      expectDemiError(
        () => server.push(qd, { segments: ['text' as unknown as Uint8Array] }),
        'EINVAL',
      );
      expectDemiError(() => server.pop(qd, 0), 'EINVAL');
      server.bind(qd, { address: env.serverAddress, port: env.nextPort() });
      expectDemiError(
        () => server.bind(qd, { address: env.serverAddress, port: env.nextPort() }),
        'EINVAL',
      );
      server.close(qd);
    },
  },
  {
    name: 'two listeners on one address: EADDRINUSE',
    needs: 'tcp',
    async run(env) {
      const { server } = env;
      const port = env.nextPort();
      const a = server.socket(AF_INET, SOCK_STREAM);
      server.bind(a, { address: env.serverAddress, port });
      server.listen(a, 4);
      const b = server.socket(AF_INET, SOCK_STREAM);
      expectDemiError(() => {
        server.bind(b, { address: env.serverAddress, port });
        server.listen(b, 4);
      }, 'EADDRINUSE');
      server.close(b);
      server.close(a);
    },
  },
  {
    name: 'connect to a port nobody listens on: ECONNREFUSED',
    needs: 'tcp',
    async run(env) {
      const { client } = env;
      const qd = client.socket(AF_INET, SOCK_STREAM);
      const result = await client.wait(
        client.connect(qd, { address: env.serverAddress, port: env.closedPort() }),
        OP_TIMEOUT_MS,
      );
      expect(result.opcode).toBe(Opcode.FAILED);
      expect(result.ret).toBe(ERRNO.ECONNREFUSED);
      client.close(qd);
    },
  },
  {
    name: 'pending pop completes ECANCELED when its socket closes',
    needs: 'tcp',
    async run(env) {
      const { server, client } = env;
      const c = await connectPair(env);
      const qt = server.pop(c.serverQd);
      const accepting = server.accept(c.listener);
      server.close(c.serverQd);
      server.close(c.listener);
      const popped = await server.wait(qt, OP_TIMEOUT_MS);
      expect(popped.opcode).toBe(Opcode.FAILED);
      expect(popped.ret).toBe(ERRNO.ECANCELED);
      const acc = await server.wait(accepting, OP_TIMEOUT_MS);
      expect(acc.opcode).toBe(Opcode.FAILED);
      expect(acc.ret).toBe(ERRNO.ECANCELED);
      client.close(c.clientQd);
    },
  },
  {
    name: 'UDP pushto/pop carries the source address',
    needs: 'udp',
    async run(env) {
      const { server, client } = env;
      const port = env.nextPort();
      const s = server.socket(AF_INET, SOCK_DGRAM);
      server.bind(s, { address: env.serverAddress, port });
      const c = client.socket(AF_INET, SOCK_DGRAM);
      const popQt = server.pop(s);
      await ok(
        client,
        client.pushto(c, sgaOf('datagram'), { address: env.serverAddress, port }),
        Opcode.PUSH,
      );
      const got = await ok(server, popQt, Opcode.POP);
      expect(new TextDecoder().decode(bytes(got.sga))).toBe('datagram');
      const from = got.addr ?? got.sga?.addr;
      expect(from).toBeDefined();
      expect(from!.port).toBeGreaterThan(0);
      const back = client.pop(c);
      await ok(server, server.pushto(s, sgaOf('reply'), from!), Opcode.PUSH);
      const reply = await ok(client, back, Opcode.POP);
      expect(new TextDecoder().decode(bytes(reply.sga))).toBe('reply');
      expect((reply.addr ?? reply.sga?.addr)?.port).toBe(port);
      server.close(s);
      client.close(c);
    },
  },
  {
    name: 'pipe create/open, messages both ways, EOF on close',
    needs: 'pipe',
    async run(env) {
      const { server, client } = env;
      const name = `demi-conf-${process.pid}-${env.nextPort()}`;
      const a = server.createPipe(name);
      expectDemiError(() => server.createPipe(name), 'EEXIST');
      expectDemiError(() => client.openPipe(`${name}-absent`), 'ENOENT');
      expectDemiError(() => client.openPipe('bad/name'), 'EINVAL');
      const b = client.openPipe(name);
      await ok(server, server.push(a, sgaOf('to b')), Opcode.PUSH);
      expect(
        new TextDecoder().decode(bytes((await ok(client, client.pop(b), Opcode.POP)).sga)),
      ).toBe('to b');
      await ok(client, client.push(b, sgaOf('to a')), Opcode.PUSH);
      expect(
        new TextDecoder().decode(bytes((await ok(server, server.pop(a), Opcode.POP)).sga)),
      ).toBe('to a');
      const pending = client.pop(b);
      server.close(a);
      const eof = await ok(client, pending, Opcode.POP);
      expect(bytes(eof.sga).byteLength).toBe(0);
      client.close(b);
    },
  },
  {
    name: 'socket calls on a pipe-only LibOS are ENOTSUP',
    needs: 'pipe',
    unless: 'tcp',
    async run(env) {
      expectDemiError(() => env.server.socket(AF_INET, SOCK_STREAM), 'ENOTSUP');
    },
  },
];

const scenarios: Scenario[] = [...basicScenarios, ...contractScenarios];

/** Names of every scenario, for backends that list what they skip. */
export const SCENARIO_NAMES = scenarios.map((s) => s.name);

/**
 * Registers the conformance scenarios with vitest for one backend. Scenarios the
 * backend cannot run (by capability or by `skip`) are reported, with the reason.
 */
export function runConformance(target: ConformanceTarget, options: ConformanceOptions = {}): void {
  describe(`conformance: ${target.name}`, () => {
    let env: ConformanceEnv;
    beforeEach(async () => {
      env = await target.setup();
      if (options.bulkBytes !== undefined)
        (env as ConformanceEnv & { bulkBytes?: number }).bulkBytes = options.bulkBytes;
    });
    afterEach(async () => {
      // A stack that swallowed an exception did something nobody asked for.
      const internal = env?.internalErrors?.() ?? 0;
      await env?.teardown();
      expect(internal, 'internal errors the LibOS counted and swallowed').toBe(0);
    });
    const caps = options.capabilities ?? target.capabilities;
    it('declares the capabilities it has, and has the ones it declares', async () => {
      // The scenarios run what both ends can do (the target may leave some out).
      for (const cap of caps) {
        expect(env.server.capabilities.has(cap), `server has '${cap}'`).toBe(true);
        expect(env.client.capabilities.has(cap), `client has '${cap}'`).toBe(true);
      }
      await checkCapabilities(env.server, env);
      if (env.client !== env.server) await checkCapabilities(env.client, env);
    });
    const skipped: string[] = [];
    for (const scenario of scenarios) {
      const reason = options.skip?.[scenario.name];
      const needs = typeof scenario.needs === 'string' ? [scenario.needs] : scenario.needs;
      const missing = !needs.some((c) => caps.has(c))
        ? `no '${needs.join("' or '")}' capability`
        : scenario.unless !== undefined && caps.has(scenario.unless)
          ? `has '${scenario.unless}'`
          : undefined;
      if (reason !== undefined || missing !== undefined) {
        skipped.push(`${scenario.name} (${reason ?? missing})`);
        it.skip(`${scenario.name} — skipped: ${reason ?? missing}`, () => {});
        continue;
      }
      it(scenario.name, () => scenario.run(env, caps), 120_000);
    }
    if (skipped.length > 0)
      console.info(
        `[conformance: ${target.name}] skipped ${skipped.length}: ${skipped.join('; ')}`,
      );
  });
}

/** Each capability works where it is declared and is ENOTSUP where it is not. */
async function checkCapabilities(server: LibOS, env: ConformanceEnv): Promise<void> {
  const caps = server.capabilities;
  for (const [cap, type] of [
    ['tcp', SOCK_STREAM],
    ['udp', SOCK_DGRAM],
  ] as const) {
    if (caps.has(cap)) {
      const qd = server.socket(AF_INET, type);
      server.bind(qd, { address: '0.0.0.0', port: 0 });
      expect(server.getsockname(qd).port).toBeGreaterThan(0);
      if (cap === 'tcp') {
        if (caps.has('sockopt')) {
          server.setsockopt(qd, SOL_SOCKET, SO_KEEPALIVE, true);
          expect(server.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE)).toBe(true);
        } else {
          expectDemiError(() => server.setsockopt(qd, SOL_SOCKET, SO_KEEPALIVE, true), 'ENOTSUP');
          expectDemiError(() => server.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE), 'ENOTSUP');
        }
      }
      server.close(qd);
    } else {
      expectDemiError(() => server.socket(AF_INET, type), 'ENOTSUP');
    }
  }
  const name = `demi-caps-${process.pid}-${env.nextPort()}`;
  if (caps.has('pipe')) {
    const a = server.createPipe(name);
    const b = server.openPipe(name);
    await ok(server, server.push(a, sgaOf('cap')), Opcode.PUSH);
    expect(bytes((await ok(server, server.pop(b), Opcode.POP)).sga).byteLength).toBe(3);
    server.close(b);
    server.close(a);
  } else {
    expectDemiError(() => server.createPipe(name), 'ENOTSUP');
    expectDemiError(() => server.openPipe(name), 'ENOTSUP');
  }
}
