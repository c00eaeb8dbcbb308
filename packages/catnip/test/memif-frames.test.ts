// Two catnip processes over net_memif (shared memory, no kernel on the data
// path): this process is the memif server (master), a child the client
// (slave) that echoes every frame back. Frames of every size must come back
// byte-exact and in order.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CatnipDevice } from '../src/index.js';
import { missingDpdk, sleep } from './helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'memif-echo.ts');

describePrivileged('catnip frames between two processes over net_memif', missingDpdk, () => {
  let dir: string;
  let device: CatnipDevice;
  let child: ChildProcess;
  let childOut = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'demi-catnip-memif-'));
    const socket = join(dir, 'memif.sock');
    device = new CatnipDevice({
      vdevs: [`net_memif0,role=server,id=0,socket=${socket},socket-abstract=no`],
    });
    child = spawn(process.execPath, ['--import', 'tsx', fixture, socket], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (childOut += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!childOut.includes('ready') && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`memif client exited: ${childOut}`);
      await sleep(10);
    }
    if (!childOut.includes('ready')) throw new Error(`memif client not ready: ${childOut}`);
    await device.waitForLink(10_000);
  });

  afterAll(() => {
    if (child?.exitCode === null) child.kill();
    device?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects: the memif link is up on both sides', () => {
    expect(device.port.driver).toBe('net_memif');
    expect(device.link().up).toBe(true);
  });

  it('echoes 2000 frames of every size byte-exact and in order', async () => {
    const peerMac = Buffer.from(/ready ([0-9a-f]{12})/.exec(childOut)![1]!, 'hex');
    const total = 2000;
    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    let next = 0;
    const deadline = Date.now() + 30_000;
    while (got.length < total && Date.now() < deadline) {
      // Keep at most 64 frames in flight; the echo is in another process.
      while (next < total && next - got.length < 64) {
        const size = 60 + ((next * 7919) % (1514 - 60 + 1));
        const f = new Uint8Array(size);
        f.set(peerMac, 0);
        f.set(device.mac, 6);
        f[12] = 0x88;
        f[13] = 0xb6;
        new DataView(f.buffer).setUint32(14, next);
        for (let i = 18; i < size; i++) f[i] = (i * 31 + next) & 0xff;
        expect(device.send(f)).toBe(true);
        sent.push(f);
        next++;
      }
      device.flush();
      if (device.receive((frame) => got.push(frame.slice())) === 0)
        await new Promise((r) => setImmediate(r));
    }
    expect(got.length).toBe(total);
    for (let i = 0; i < total; i++) {
      const want = sent[i]!;
      const g = got[i]!;
      expect(g.byteLength).toBe(want.byteLength);
      expect(Buffer.compare(g.subarray(12), want.subarray(12))).toBe(0);
      expect(Buffer.compare(g.subarray(0, 6), device.mac)).toBe(0);
    }
  });

  it('the client exits cleanly after "bye" and reports what it moved', async () => {
    const bye = new Uint8Array(60);
    bye.fill(0xff, 0, 6);
    bye.set(device.mac, 6);
    bye.set([0x88, 0xb5], 12);
    bye.set(new TextEncoder().encode('bye'), 14);
    device.send(bye);
    device.flush();
    const deadline = Date.now() + 15_000;
    while (child.exitCode === null && Date.now() < deadline) await sleep(10);
    expect(child.exitCode).toBe(0);
    const stats = JSON.parse(/bye (\{.*\})/.exec(childOut)![1]!);
    expect(stats.rxFrames).toBe(2001);
    expect(stats.txFrames).toBe(2000);
  });

  for (const how of ['exit', 'end']) {
    it(`a process that leaves (${how === 'exit' ? 'process.exit()' : 'no more work'}) with a port open closes it: the memif socket is gone`, () => {
      const socket = join(dir, `leave-${how}.sock`);
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'exit-open.ts'), socket, how],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('open true');
      expect(existsSync(socket)).toBe(false);
    });
  }
});
