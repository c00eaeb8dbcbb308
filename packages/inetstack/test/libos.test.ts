import {
  AF_INET,
  DemiError,
  ERRNO,
  IPPROTO_TCP,
  type LibOS,
  Opcode,
  SHORT_POP_MAX,
  SO_KEEPALIVE,
  SO_LINGER,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from '@demi/core';
import { pattern } from '@demi/core/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameDevice } from '../src/device/device.js';
import { MemoryLink } from '../src/device/memory-link.js';
import { stackConfigFromDemi } from '../src/socket/demi-config.js';
import { InetStackLibOS } from '../src/socket/libos.js';
import { failOnInternalErrors } from '../src/testing/internal-errors.js';
import { formatMac } from '../src/util/addr.js';
import { Timer } from '../src/util/timers.js';

const track = failOnInternalErrors();

const T = 10_000;
const text = (s: string) => ({ segments: [new TextEncoder().encode(s)] });
const str = (sga?: { segments: Uint8Array[] }) =>
  new TextDecoder().decode(sga?.segments[0] ?? new Uint8Array(0));

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

function pair(
  options: {
    pump?: boolean;
    clientConfig?: object;
    serverConfig?: object;
    wrap?: (d: FrameDevice) => FrameDevice;
  } = {},
) {
  const [da, db] = MemoryLink.pair();
  const wrap = options.wrap ?? ((d: FrameDevice) => d);
  const server = new InetStackLibOS({
    name: 'test',
    device: wrap(da),
    config: { demikernel: { local_ipv4_addr: '10.0.0.1' }, ...options.serverConfig },
  });
  const client = new InetStackLibOS({
    name: 'test',
    device: wrap(db),
    config: { demikernel: { local_ipv4_addr: '10.0.0.2' }, ...options.clientConfig },
  });
  track(server);
  track(client);
  let pump: NodeJS.Timeout | undefined;
  if (options.pump !== false) {
    pump = setInterval(() => {
      if (!server.isShutdown) server.stack.poll();
      if (!client.isShutdown) client.stack.poll();
    }, 1);
  }
  cleanup.push(async () => {
    if (pump) clearInterval(pump);
    await server.shutdown();
    await client.shutdown();
  });
  return { server, client };
}

async function connected(server: LibOS, client: LibOS, port = 7000) {
  const l = server.socket(AF_INET, SOCK_STREAM);
  server.bind(l, { address: '10.0.0.1', port });
  server.listen(l, 8);
  const c = client.socket(AF_INET, SOCK_STREAM);
  const [acc, con] = await Promise.all([
    server.wait(server.accept(l), T),
    client.wait(client.connect(c, { address: '10.0.0.1', port }), T),
  ]);
  expect(acc.opcode).toBe(Opcode.ACCEPT);
  expect(con.opcode).toBe(Opcode.CONNECT);
  return { l, s: acc.accepted!.qd, c };
}

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DemiError);
    expect((e as DemiError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('configuration', () => {
  it('maps demi YAML keys: addresses, ARP times in seconds, TCP socket defaults', () => {
    const c = stackConfigFromDemi({
      demikernel: {
        local_ipv4_addr: '10.1.1.1',
        local_link_addr: '02:aa:00:00:00:01',
        prefix_length: 16,
        gateway: '10.1.0.1',
      },
      inetstack_config: {
        mtu: 9000,
        arp_request_timeout: 2,
        arp_cache_ttl: 30,
        arp_request_retries: 4,
        arp_table: { '02:00:00:00:00:09': '10.1.1.9' },
        congestion_control: 'newreno',
        tcp_retries: 5,
        receive_window: 65536,
        mss: 1200,
      },
      tcp_socket_options: {
        nodelay: false,
        keepalive: { enabled: true, time_millis: 5000, interval: 1000 },
        linger: { enabled: true, time_seconds: 3 },
      },
    });
    expect(c).toMatchObject({
      ipv4: '10.1.1.1',
      mac: '02:aa:00:00:00:01',
      prefixLength: 16,
      gateway: '10.1.0.1',
      mtu: 1500,
    });
    expect(c.arp).toMatchObject({ requestTimeoutMs: 2000, cacheTtlMs: 30_000, retries: 4 });
    expect(c.tcp).toMatchObject({
      congestionControl: 'newreno',
      retries: 5,
      receiveBuffer: 65536,
      mss: 1200,
      nodelay: false,
      keepalive: { enabled: true, idleMs: 5000, intervalMs: 1000 },
      linger: { enabled: true, seconds: 3 },
    });
    expect(
      stackConfigFromDemi({
        demikernel: { local_ipv4_addr: '10.1.1.1' },
        inetstack_config: { mtu: 9000, enable_jumbo_frames: true },
      }).mtu,
    ).toBe(9000);
  });

  it('without local_ipv4_addr it is EINVAL naming the key; the MAC defaults to the device', () => {
    const [d] = MemoryLink.pair();
    expectCode(() => new InetStackLibOS({ name: 'x', device: d, config: {} }), 'EINVAL');
    const l = new InetStackLibOS({
      name: 'x',
      device: d,
      config: { demikernel: { local_ipv4_addr: '10.0.0.5' } },
    });
    expect(formatMac(l.stack.config.mac)).toBe(formatMac(d.mac));
    cleanup.push(() => l.shutdown());
  });
});

describe('internal errors', () => {
  it('an exception the stack swallows is counted in stats and emitted as internalError', () => {
    const [d] = MemoryLink.pair();
    const libos = new InetStackLibOS({
      name: 'test',
      device: d,
      config: { demikernel: { local_ipv4_addr: '10.0.0.1' } },
    });
    const seen: unknown[] = [];
    const listener = (err: unknown) => seen.push(err);
    libos.on('internalError', listener);
    const boom = new Error('a timer that throws');
    libos.stack.timers.set(
      new Timer(() => {
        throw boom;
      }),
      0,
    );
    libos.stack.poll();
    expect(libos.stats.internalErrors).toBe(1);
    expect(seen).toEqual([boom]);
    libos.off('internalError', listener);
    libos.stack.timers.set(
      new Timer(() => {
        throw boom;
      }),
      0,
    );
    libos.stack.poll();
    expect(libos.stats.internalErrors).toBe(2);
    expect(seen).toHaveLength(1);
  });
});

describe('InetStackLibOS sockets', () => {
  it('bind: foreign address EADDRNOTAVAIL, port 0 picks one, getsockname reports it', () => {
    const { server } = pair({ pump: false });
    const qd = server.socket(AF_INET, SOCK_STREAM);
    expectCode(() => server.bind(qd, { address: '10.9.9.9', port: 80 }), 'EADDRNOTAVAIL');
    server.bind(qd, { address: '0.0.0.0', port: 0 });
    const name = server.getsockname(qd);
    expect(name.address).toBe('0.0.0.0');
    expect(name.port).toBeGreaterThanOrEqual(49152);
    expectCode(() => server.getpeername(qd), 'ENOTCONN');
    expectCode(() => server.push(qd, text('x')), 'ENOTCONN');
    expectCode(() => server.pushto(qd, text('x'), { address: '10.0.0.2', port: 1 }), 'ENOTSUP');
  });

  it('connect twice: EINPROGRESS while connecting, EISCONN once connected', async () => {
    const { server, client } = pair();
    const l = server.socket(AF_INET, SOCK_STREAM);
    server.bind(l, { address: '10.0.0.1', port: 7001 });
    server.listen(l, 4);
    const c = client.socket(AF_INET, SOCK_STREAM);
    const qt = client.connect(c, { address: '10.0.0.1', port: 7001 });
    expectCode(() => client.connect(c, { address: '10.0.0.1', port: 7001 }), 'EINPROGRESS');
    expect((await client.wait(qt, T)).opcode).toBe(Opcode.CONNECT);
    expectCode(() => client.connect(c, { address: '10.0.0.1', port: 7001 }), 'EISCONN');
    expect(client.getsockname(c).address).toBe('10.0.0.2');
  });

  it('asyncClose completes once the FIN is acknowledged; the peer then pops EOF', async () => {
    const { server, client } = pair();
    const { s, c } = await connected(server, client, 7002);
    await client.wait(client.push(c, text('bye')), T);
    const closed = await client.wait(client.asyncClose(c), T);
    expect([closed.opcode, closed.ret]).toEqual([Opcode.CLOSE, 0]);
    expect(str((await server.wait(server.pop(s), T)).sga)).toBe('bye');
    expect((await server.wait(server.pop(s), T)).sga!.segments[0]!.byteLength).toBe(0);
  });

  it('SO_LINGER {on, 0} aborts: the peer pop fails with ECONNRESET', async () => {
    const { server, client } = pair();
    const { s, c } = await connected(server, client, 7003);
    client.setsockopt(c, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
    expect(client.getsockopt(c, SOL_SOCKET, SO_LINGER)).toEqual({ onoff: true, linger: 0 });
    client.close(c);
    const r = await server.wait(server.pop(s), T);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNRESET]);
    const p = await server.wait(server.push(s, text('x')), T);
    expect([p.opcode, p.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNRESET]);
  });

  it('socket options: defaults from config, set and read back', async () => {
    const { server, client } = pair({
      clientConfig: { tcp_socket_options: { nodelay: false, keepalive: { enabled: true } } },
    });
    const { c } = await connected(server, client, 7004);
    expect(client.getsockopt(c, IPPROTO_TCP, TCP_NODELAY)).toBe(false);
    expect(client.getsockopt(c, SOL_SOCKET, SO_KEEPALIVE)).toBe(true);
    client.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, true);
    client.setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, false);
    expect(client.getsockopt(c, IPPROTO_TCP, TCP_NODELAY)).toBe(true);
    expect(client.getsockopt(c, SOL_SOCKET, SO_KEEPALIVE)).toBe(false);
    expectCode(() => client.setsockopt(c, SOL_SOCKET, 99, true), 'ENOPROTOOPT');
  });

  it('pending push completes ECANCELED on close when the send buffer was full', async () => {
    const { server, client } = pair({
      clientConfig: { inetstack_config: { receive_window: 4096 } },
      serverConfig: { inetstack_config: { receive_window: 4096 } },
    });
    const { c } = await connected(server, client, 7005);
    const big = { segments: [new Uint8Array(4 << 20)] };
    const qt = client.push(c, big);
    client.close(c);
    const r = await client.wait(qt, T);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
  });

  it('UDP: push needs a peer (EDESTADDRREQ); connect sets one; big datagrams are truncated to the pop size', async () => {
    const { server, client } = pair();
    const s = server.socket(AF_INET, SOCK_DGRAM);
    server.bind(s, { address: '10.0.0.1', port: 5353 });
    const c = client.socket(AF_INET, SOCK_DGRAM);
    expectCode(() => client.push(c, text('x')), 'EDESTADDRREQ');
    await client.wait(client.connect(c, { address: '10.0.0.1', port: 5353 }), T);
    expect(client.getpeername(c)).toEqual({ address: '10.0.0.1', port: 5353 });
    const popQt = server.pop(s, 4);
    expect((await client.wait(client.push(c, text('truncated')), T)).opcode).toBe(Opcode.PUSH);
    const r = await server.wait(popQt, T);
    expect(str(r.sga)).toBe('trun');
    expect(r.addr).toEqual({ address: '10.0.0.2', port: client.getsockname(c).port });
  });

  it('UDP pushto an address that never resolves fails with EHOSTUNREACH', async () => {
    const { client } = pair({
      clientConfig: { inetstack_config: { arp_request_retries: 0, arp_request_timeout: 1 } },
    });
    const c = client.socket(AF_INET, SOCK_DGRAM);
    const r = await client.wait(client.pushto(c, text('x'), { address: '10.0.0.77', port: 9 }), T);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.EHOSTUNREACH]);
  });

  it('async waits make progress on device wake-ups and timers alone (no pump)', async () => {
    const { server, client } = pair({ pump: false });
    const { s, c } = await connected(server, client, 7006);
    const popQt = server.pop(s);
    await client.wait(client.push(c, text('woken')), T);
    expect(str((await server.wait(popQt, T)).sga)).toBe('woken');
    // A timer is the only thing that can complete this one: ARP gives up after one request.
    const { client: lonely } = pair({
      pump: false,
      clientConfig: { inetstack_config: { arp_request_retries: 0, arp_request_timeout: 1 } },
    });
    const q = lonely.socket(AF_INET, SOCK_STREAM);
    const r = await lonely.wait(lonely.connect(q, { address: '10.0.0.99', port: 80 }), T);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.EHOSTUNREACH]);
  });

  it('a poll-only device (no wake-up source) is driven by slice polling', async () => {
    const pollOnly = (d: FrameDevice): FrameDevice => ({
      mac: d.mac,
      mtu: d.mtu,
      offloads: d.offloads,
      receive: (f) => d.receive(f),
      send: (f) => d.send(f),
      flush: () => d.flush(),
      close: () => d.close(),
    });
    const { server, client } = pair({ pump: false, wrap: pollOnly });
    const { s, c } = await connected(server, client, 7007);
    const popQt = server.pop(s);
    await client.wait(client.push(c, text('polled')), T);
    expect(str((await server.wait(popQt, T)).sga)).toBe('polled');
  });

  it('a datagram to a port nobody bound is answered with ICMP port unreachable', async () => {
    const { server, client } = pair();
    const before = server.stack.stats.icmpOut;
    const ep = client.stack.udp.bind(0);
    if (typeof ep === 'number') throw new Error();
    client.stack.udp.send(ep, 0x0a000001, 9, [new Uint8Array(1)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.stack.stats.icmpOut).toBe(before + 1);
  });
});

describe('TCP pops and sgafree', () => {
  /** Pushes `data` in 64 KiB pushes from `from` on qd `c`, all in flight at once. */
  async function sendAll(from: LibOS, c: number, data: Uint8Array) {
    const qts = [];
    for (let at = 0; at < data.byteLength; at += 65536)
      qts.push(from.push(c, { segments: [data.subarray(at, at + 65536)] }));
    for (const qt of qts) expect((await from.wait(qt, T)).opcode).toBe(Opcode.PUSH);
  }

  it('a long pop lands in memory a freed pop gave back; held pops never change; bytes exact', async () => {
    const { server, client } = pair();
    const { s, c } = await connected(server, client);
    const data = pattern(8 << 20, 7);
    const sending = sendAll(client, c, data);
    const received = new Uint8Array(data.byteLength);
    const held: Array<{ view: Uint8Array; copy: Uint8Array }> = [];
    const freedBuffers = new Set<ArrayBufferLike>();
    let reused = 0;
    let got = 0;
    for (let i = 0; got < data.byteLength; i++) {
      const r = await server.wait(server.pop(s), T);
      expect(r.opcode).toBe(Opcode.POP);
      const view = r.sga!.segments[0]!;
      expect(view.byteLength).toBeGreaterThan(0);
      received.set(view, got);
      got += view.byteLength;
      const long = view.byteLength > SHORT_POP_MAX;
      if (long && freedBuffers.has(view.buffer)) reused++;
      // A held long pop's memory is never lent again (short ones share a slab that is never rewritten).
      if (view.byteLength > SHORT_POP_MAX)
        for (const h of held)
          if (h.view.byteLength > SHORT_POP_MAX) expect(h.view.buffer).not.toBe(view.buffer);
      if (i % 5 === 0) {
        held.push({ view, copy: view.slice() });
      } else {
        if (long) freedBuffers.add(view.buffer);
        server.sgafree(r.sga!);
      }
    }
    await sending;
    expect(got).toBe(data.byteLength);
    expect(Buffer.compare(received, data)).toBe(0);
    expect(reused).toBeGreaterThan(0);
    for (const h of held) expect(Buffer.compare(h.view, h.copy)).toBe(0);
  });

  it('short pops are copies in a shared slab that sgafree never hands to a later pop', async () => {
    const { server, client } = pair();
    const { s, c } = await connected(server, client);
    const data = pattern(64 * 1024, 3);
    const sending = sendAll(client, c, data);
    const pops: Uint8Array[] = [];
    for (let got = 0; got < data.byteLength; ) {
      const r = await server.wait(server.pop(s, 1000), T);
      expect(r.opcode).toBe(Opcode.POP);
      const view = r.sga!.segments[0]!;
      expect(view.byteLength).toBeLessThanOrEqual(1000);
      expect(Buffer.compare(view, data.subarray(got, got + view.byteLength))).toBe(0);
      pops.push(view);
      got += view.byteLength;
      server.sgafree(r.sga!);
    }
    await sending;
    // Many pops share one slab (not an ArrayBuffer each), and none was overwritten by a later one.
    expect(new Set(pops.map((p) => p.buffer)).size).toBeLessThan(pops.length / 4);
    let at = 0;
    for (const p of pops) {
      expect(Buffer.compare(p, data.subarray(at, at + p.byteLength))).toBe(0);
      at += p.byteLength;
    }
  });

  it('sgafree of memory the LibOS did not hand out changes nothing; twice is EINVAL', async () => {
    const { server, client } = pair();
    const { s, c } = await connected(server, client);
    const mine = { segments: [new Uint8Array(100_000).fill(9)] };
    server.sgafree(mine);
    const data = pattern(100_000, 5);
    const sending = sendAll(client, c, data);
    const received: Uint8Array[] = [];
    for (let got = 0; got < data.byteLength; ) {
      const r = await server.wait(server.pop(s), T);
      const view = r.sga!.segments[0]!;
      expect(view.buffer).not.toBe(mine.segments[0]!.buffer);
      received.push(view);
      got += view.byteLength;
      server.sgafree(r.sga!);
      expectCode(() => server.sgafree(r.sga!), 'EINVAL');
    }
    await sending;
    expect(mine.segments[0]!.every((b) => b === 9)).toBe(true);
  });
});
