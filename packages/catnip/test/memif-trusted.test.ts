// A trusted memif link computes and verifies no checksums; an ordinary one does
// both below the stack. Two memif links in one process (one EAL), the same UDP
// frame with a wrong checksum sent over each: the ordinary link fills in the
// right checksum on the way out, the trusted one delivers the frame untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CatnipDevice, retainEal } from '../src/index.js';
import { checksum, ethernet, ip, ipv4, udp } from './frames.js';
import { missingDpdk, sleep } from './helpers.js';

const SRC = ip('10.77.0.1');
const DST = ip('10.77.0.2');
const WRONG = 0x1234;

/** A UDP frame whose checksum field says WRONG. */
function frameWithWrongChecksum(from: CatnipDevice, to: CatnipDevice): Uint8Array {
  const data = new TextEncoder().encode('shared memory cannot flip this bit');
  const frame = ethernet(
    to.mac,
    from.mac,
    0x0800,
    ipv4(SRC, DST, 17, udp(SRC, DST, 4000, 5000, data, false)),
  );
  frame[14 + 20 + 6] = WRONG >> 8;
  frame[14 + 20 + 7] = WRONG & 0xff;
  return frame;
}

/** Sends `frame` from `a` and returns the UDP frame `b` receives. */
async function across(a: CatnipDevice, b: CatnipDevice, frame: Uint8Array): Promise<Uint8Array> {
  const deadline = Date.now() + 5000;
  expect(a.send(frame)).toBe(true);
  let got: Uint8Array | undefined;
  while (got === undefined && Date.now() < deadline) {
    a.flush();
    b.receive((f) => {
      if (f.length === frame.length && f[14 + 9] === 17) got = Uint8Array.from(f);
    });
    if (got === undefined) await sleep(1);
  }
  if (got === undefined) throw new Error('the frame did not arrive');
  return got;
}

const udpChecksum = (f: Uint8Array) => (f[14 + 20 + 6]! << 8) | f[14 + 20 + 7]!;

/** Whether the UDP checksum of a received frame verifies (pseudo header + datagram sums to 0). */
function udpChecksumOk(f: Uint8Array): boolean {
  const seg = f.subarray(14 + 20);
  const pseudo = new Uint8Array(12 + seg.length);
  pseudo.set(f.subarray(14 + 12, 14 + 20), 0);
  pseudo[9] = 17;
  pseudo[10] = seg.length >> 8;
  pseudo[11] = seg.length & 0xff;
  pseudo.set(seg, 12);
  return checksum(pseudo) === 0;
}

describePrivileged('catnip trusted memif links', missingDpdk, () => {
  let dir: string;
  const devices: CatnipDevice[] = [];
  let release: (() => void) | undefined;

  function link(n: number, trustedLink: boolean): [CatnipDevice, CatnipDevice] {
    const socket = join(dir, `memif${n}.sock`);
    const vdev = (role: string, i: number) =>
      `net_memif${i},role=${role},id=0,socket=${socket},socket-abstract=no`;
    const vdevs = [vdev('server', 2 * n), vdev('client', 2 * n + 1)];
    const a = new CatnipDevice({ vdevs, trustedLink, mbufs: 1023 });
    release ??= retainEal();
    const b = new CatnipDevice({ vdevs: [vdevs[1]!], trustedLink, mbufs: 1023 });
    devices.push(a, b);
    return [a, b];
  }

  let checked: [CatnipDevice, CatnipDevice];
  let trusted: [CatnipDevice, CatnipDevice];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'demi-catnip-trusted-'));
    checked = link(0, false);
    trusted = link(1, true);
    await Promise.all(devices.map((d) => d.waitForLink()));
  });
  afterAll(() => {
    for (const d of devices) d.close();
    release?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says which link is trusted; both report checksum offloads to the stack', () => {
    expect(checked.map((d) => d.port.trustedLink)).toEqual([false, false]);
    expect(trusted.map((d) => d.port.trustedLink)).toEqual([true, true]);
    for (const d of devices)
      expect(d.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso: 0 });
  });

  it('an ordinary link fills in the checksum on the way out', async () => {
    const [a, b] = checked;
    const got = await across(a, b, frameWithWrongChecksum(a, b));
    expect(udpChecksum(got)).not.toBe(WRONG);
    expect(udpChecksumOk(got)).toBe(true);
    expect(b.stats().rxBadChecksum).toBe(0);
  });

  it('a trusted link neither fills in nor verifies: the frame arrives as sent', async () => {
    const [a, b] = trusted;
    const frame = frameWithWrongChecksum(a, b);
    const got = await across(a, b, frame);
    expect(Buffer.compare(got, frame)).toBe(0);
    expect(udpChecksum(got)).toBe(WRONG);
    expect(b.stats().rxBadChecksum).toBe(0);
  });
});
