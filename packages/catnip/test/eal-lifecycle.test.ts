// DPDK's EAL is per process: the first catnip device starts it, later ones
// join (adding their virtual devices by hot plug), and the last one to close
// stops every port and calls rte_eal_cleanup, after which it cannot start
// again in this process. Two devices here talk over memif within one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemiError } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, expect, it } from 'vitest';
import { CatnipDevice, ealStatus, retainEal } from '../src/index.js';
import { loadDpdk } from '../src/native.js';
import { missingDpdk, sleep } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'demi-catnip-eal-'));
const memif = (role: 'server' | 'client', n: number) =>
  `net_memif${n},role=${role},id=0,socket=${join(dir, 'link.sock')},socket-abstract=no`;

async function exchange(a: CatnipDevice, b: CatnipDevice, text: string): Promise<string> {
  const f = new Uint8Array(60);
  f.set(b.mac, 0);
  f.set(a.mac, 6);
  f.set([0x88, 0xb6], 12);
  f.set(new TextEncoder().encode(text), 14);
  let got: string | undefined;
  const deadline = Date.now() + 5000;
  while (got === undefined && Date.now() < deadline) {
    a.send(f);
    a.flush();
    await sleep(2);
    b.receive((frame) => {
      got ??= Buffer.from(frame.subarray(14, 14 + text.length)).toString();
    });
  }
  return got ?? '(nothing)';
}

function demiError(fn: () => unknown): DemiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DemiError);
    return err as DemiError;
  }
  throw new Error('expected a DemiError');
}

describePrivileged('catnip EAL lifecycle in one process', missingDpdk, () => {
  const open: CatnipDevice[] = [];
  afterAll(() => {
    for (const d of open) d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects bad options and arguments before DPDK sees them', () => {
    expect(ealStatus().state).toBe('down');
    expect(demiError(() => new CatnipDevice({ portId: -1 })).code).toBe('EINVAL');
    expect(demiError(() => new CatnipDevice({ ealArgs: [] })).code).toBe('EINVAL');
    expect(
      demiError(() => new CatnipDevice({ ealArgs: ['x', '--no-huge'], vdevs: ['net_null0'] })).code,
    ).toBe('EINVAL');
    for (const bad of [
      ['--help'],
      ['--he'],
      ['-vh'],
      ['--log-level=help'],
      ['--log-level', 'help'],
    ]) {
      const e = demiError(() => new CatnipDevice({ ealArgs: ['demi', '--no-huge', ...bad] }));
      expect(e.code).toBe('EINVAL');
      expect(e.message).toMatch(/refused EAL argument .* exits the process/);
    }
    expect(demiError(() => new CatnipDevice({ ealArgs: ['demi', 'a\0b'] })).message).toMatch(/NUL/);
    expect(ealStatus().state).toBe('down');
  });

  it('the raw addon refuses garbage options without crashing', () => {
    const { Port } = loadDpdk();
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      'text',
      {},
      { ealArgs: 'demi' },
      { ealArgs: [1, 2] },
      { ealArgs: ['demi'], portId: 1e9 },
      { ealArgs: ['demi'], portId: 1.5 },
      { ealArgs: ['demi'], rxBurst: 0 },
      { ealArgs: ['demi'], mtu: 20 },
      { ealArgs: ['demi'], mbufs: -1 },
      { ealArgs: ['demi'], netns: 'a/b' },
      { ealArgs: ['demi'], mac: new Uint8Array(5) },
      { ealArgs: ['demi'], softwareChecksum: 'yes' },
      { ealArgs: new Array(2000).fill('x') },
    ];
    for (const g of garbage) {
      expect(() => new Port(g as Record<string, unknown>)).toThrow();
    }
    expect(ealStatus().state).toBe('down');
  });

  it('a missing port is ENODEV naming the ports there are, and leaves the EAL up for a retry', () => {
    const e = demiError(() => new CatnipDevice({ vdevs: [memif('server', 0)], portId: 7 }));
    expect(e.code).toBe('ENODEV');
    expect(e.message).toMatch(/no DPDK port 7; ports: 0 \(net_memif0\)/);
    expect(e.message).toMatch(/DPDK log/);
    expect(ealStatus()).toMatchObject({ state: 'up', refs: 0 });
  });

  it('a second device joins the running EAL; two devices talk over memif in one process', async () => {
    const server = new CatnipDevice({ vdevs: [memif('server', 0)] });
    open.push(server);
    const client = new CatnipDevice({ vdevs: [memif('client', 1)] });
    open.push(client);
    expect(server.port.device).toBe('net_memif0');
    expect(client.port.device).toBe('net_memif1');
    expect(client.port.portId).not.toBe(server.port.portId);
    expect(ealStatus().refs).toBe(2);
    await server.waitForLink();
    await client.waitForLink();
    expect(await exchange(server, client, 'to client')).toBe('to client');
    expect(await exchange(client, server, 'to server')).toBe('to server');
  });

  it('one port serves one device: opening it twice is EBUSY', () => {
    const e = demiError(() => new CatnipDevice({ portId: open[0]!.port.portId }));
    expect(e.code).toBe('EBUSY');
  });

  it('different EAL options (not only --vdev) cannot join: a clear EINVAL', () => {
    const e = demiError(
      () => new CatnipDevice({ ealArgs: ['demi', '--no-huge', '-m', '64', '--vdev', 'net_null0'] }),
    );
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/already running in this process/);
  });

  it('a native port survives bad calls: wrong counts, a transferred arena, use after close', () => {
    const { Port } = loadDpdk();
    const status = ealStatus();
    const port = new Port({
      ealArgs: [...status.args, '--vdev', 'net_null9'],
      portName: 'net_null9',
    });
    expect(() => port.tx(-1)).toThrow(/count/);
    expect(() => port.tx(1e6)).toThrow(/count/);
    expect(() => port.tx(Number.NaN)).toThrow(/count/);
    expect(() => (port.tx as (x: unknown) => number)('3')).toThrow(/number/);
    expect(port.rx()).toBeGreaterThan(0); // net_null always has frames
    // The arena's memory belongs to the port as much as to JS: a transferred
    // (detached) arena leaves the port writing into memory that is still its own.
    // (Node refuses to transfer or detach such a buffer; either way the port must carry on.)
    expect(() => structuredClone(port.arena, { transfer: [port.arena] })).toThrow();
    try {
      (port.arena as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
    } catch {}
    expect(port.rx()).toBeGreaterThan(0);
    port.close();
    expect(() => port.rx()).toThrow(/closed/);
    port.close();
    expect(() => port.stats()).toThrow(/closed/);
    expect(ealStatus().refs).toBe(status.refs);
  }, 30_000);

  it('retainEal keeps the EAL between devices; the last release cleans it up for good', async () => {
    const release = retainEal();
    for (const d of open.splice(0)) d.close();
    expect(ealStatus()).toMatchObject({ state: 'up', refs: 1 });
    // The virtual devices were removed on close, so they can be made again.
    const again = new CatnipDevice({ vdevs: [memif('server', 0)] });
    expect(again.port.device).toBe('net_memif0');
    again.close();
    release();
    release();
    expect(ealStatus().state).toBe('cleaned');
    // memif was used in this process: see native/eal.cc for why DPDK's own cleanup is skipped then.
    expect(ealStatus().cleanupSkipped).toMatch(/memif/);
    const e = demiError(() => new CatnipDevice({ vdevs: [memif('server', 0)] }));
    expect(e.message).toMatch(/rte_eal_init can run only once per process/);
    expect(() => retainEal()).toThrow(/not running/);
  });
});
