import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AF_INET, SOCK_STREAM } from '@demi/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultDevice } from '../src/device/fault-device.js';
import { MemoryLink } from '../src/device/memory-link.js';
import { InetStackLibOS } from '../src/socket/libos.js';

// The application under test pushes and closes, then never touches its LibOS again:
// only the LibOS's own timer can resend lost segments and probe a closed window.
const T = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** The app on one port; the peer (standing in for a kernel) on a faulty port, polled on its own. */
function setup(peerWindow: number) {
  const [da, db] = MemoryLink.pair();
  const peerDevice = new FaultDevice(db, { seed: 3, direction: 'rx' });
  const app = new InetStackLibOS({
    name: 'app',
    device: da,
    config: { demikernel: { local_ipv4_addr: '10.0.0.2' } },
  });
  const peer = new InetStackLibOS({
    name: 'peer',
    device: peerDevice,
    config: {
      demikernel: { local_ipv4_addr: '10.0.0.1' },
      inetstack_config: { receive_window: peerWindow },
    },
  });
  // A kernel answers whether or not its application reads.
  const pump = setInterval(() => peer.isShutdown || peer.stack.poll(), 1);
  cleanup.push(async () => {
    clearInterval(pump);
    await app.shutdown();
    await peer.shutdown();
  });
  return { app, peer, peerDevice };
}

async function connect(app: InetStackLibOS, peer: InetStackLibOS) {
  const l = peer.socket(AF_INET, SOCK_STREAM);
  peer.bind(l, { address: '10.0.0.1', port: 80 });
  peer.listen(l, 4);
  const c = app.socket(AF_INET, SOCK_STREAM);
  const [acc] = await Promise.all([
    peer.wait(peer.accept(l), T),
    app.wait(app.connect(c, { address: '10.0.0.1', port: 80 }), T),
  ]);
  return { c, s: acc.accepted!.qd };
}

/** Reads until EOF; returns the bytes. */
async function readAll(peer: InetStackLibOS, qd: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const r = await peer.wait(peer.pop(qd), T);
    const seg = r.sga?.segments[0];
    if (seg === undefined || seg.byteLength === 0) break;
    parts.push(seg.slice());
  }
  return Buffer.concat(parts);
}

function payload(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 9)) & 0xff;
  return b;
}

describe('timers run with no wait outstanding', () => {
  it('push then close: the lost first flight is resent and a zero window is probed until the data is delivered', async () => {
    const { app, peer, peerDevice } = setup(4096);
    const { c, s } = await connect(app, peer);
    const data = payload(100_000);
    peerDevice.setFaults({ dropPct: 100, direction: 'rx' });
    app.push(c, { segments: [data] });
    app.close(c);
    // The first flight (and its first retransmission) is lost; when frames pass again
    // the peer's 4 KiB window fills and closes, and its application reads only later.
    await sleep(1200);
    peerDevice.setFaults({ dropPct: 0, direction: 'rx' });
    await sleep(800);
    const got = await readAll(peer, s);
    expect(got.byteLength).toBe(data.byteLength);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
    expect(app.stack.stats.tcpTimeouts).toBeGreaterThan(0);
  });

  it('a window already closed when the application pushes is probed', async () => {
    const { app, peer } = setup(2048);
    const { c, s } = await connect(app, peer);
    const first = payload(2048);
    await app.wait(app.push(c, { segments: [first] }), T);
    // The peer takes 2 KiB, acknowledges with a zero window, and its application is away.
    await sleep(100);
    const rest = payload(30_000);
    app.push(c, { segments: [rest] });
    app.close(c);
    await sleep(1500);
    const got = await readAll(peer, s);
    expect(got.byteLength).toBe(first.byteLength + rest.byteLength);
    expect(Buffer.compare(Buffer.from(got.subarray(2048)), Buffer.from(rest))).toBe(0);
  });
});

describe('the process', () => {
  it('stays alive while closed data is owed to a peer, then exits on its own', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += String(b)));
    child.stderr.on('data', (b: Buffer) => (out += String(b)));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the fixture did not exit by itself; output:\n${out}`));
      }, 30_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out).toContain('peer received 200000 bytes and EOF');
    expect(code).toBe(0);
  });
});
