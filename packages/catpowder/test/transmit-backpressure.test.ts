// Transmit never waits for the kernel: when the interface's queue is full the
// frames it did not take stay queued and go out with a later flush, and none
// is lost. The queue here is a TAP interface whose reader holds off reading,
// so the kernel refuses frames with ENOBUFS once its tx_queue_len is full.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { RawDevice } from '../src/index.js';
import { ip, mac, udp } from './frames.js';
import { sleep } from './helpers.js';

const TAP = 'demitap0';
const reader = fileURLToPath(new URL('./peers/tap-reader.py', import.meta.url));

describePrivileged('transmit under backpressure (af_packet)', missingNetnsSupport, () => {
  const net = useNetnsPair();
  let tap: ChildProcess;
  let lines: AsyncIterableIterator<string>;

  beforeAll(async () => {
    const { pair } = net;
    pair.exec('dev', 'ip', ['tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    tap = pair.spawn('dev', 'python3', [reader, TAP], { stdio: ['pipe', 'pipe', 'inherit'] });
    lines = createInterface({ input: tap.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    pair.exec('dev', 'ip', ['link', 'set', TAP, 'up']);
  });
  afterAll(() => {
    tap?.kill();
    // The namespace (and the tap in it) goes with the pair.
  });

  it('keeps what the full queue refused and sends it later, losing nothing', async () => {
    const { pair } = net;
    const device = new RawDevice({ interfaceName: TAP, netns: pair.devNs });
    try {
      const frame = udp(
        mac(pair.devMac),
        mac(pair.peerMac),
        ip(pair.devIp),
        ip(pair.peerIp),
        1000,
        9,
        new Uint8Array(100),
        0,
      );
      // Far more than the tap's queue (500 frames) holds while nobody reads.
      let accepted = 0;
      for (let i = 0; i < 2000; i++) if (device.send(frame)) accepted++;
      device.flush();
      const full = device.stats();
      expect(full.lastTxError).toBe('ENOBUFS');
      expect(full.txFrames).toBeLessThan(accepted); // some are still queued, not dropped
      expect(accepted).toBeLessThan(2000); // the arena filled: send refused the rest

      // The reader starts reading; flushing (as the stack does on every poll) sends the rest.
      tap.stdin!.write('drain\n');
      const deadline = Date.now() + 20_000;
      while (device.stats().txFrames < accepted && Date.now() < deadline) {
        device.flush();
        await sleep(2);
      }
      expect(device.stats().txFrames).toBe(accepted);
      const received = Number((await lines.next()).value);
      expect(received).toBe(accepted);
    } finally {
      device.close();
    }
  });
});
