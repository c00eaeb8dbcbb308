import { lstatSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Catmem, removeStaleWakeFifos } from '../src/index.js';
import { fixture, fixtureWithOpenFiles, uniqueName } from './support/child.js';

// Async waits sleep in the event loop; the peer wakes it by writing into the
// waiting instance's FIFO, /dev/shm/demi-catmem-wake.<pid>.<nonce>. Nothing
// else wakes a loop for data (the 100 ms timer only notices dead peers), so a
// broken bell makes these waits time out.
const fifosOf = (pid: number) =>
  readdirSync('/dev/shm').filter((f) => f.startsWith(`demi-catmem-wake.${pid}.`));

describe('waking a sleeping event loop from another process', () => {
  let libos: Catmem | undefined;
  afterEach(async () => {
    await libos?.shutdown();
    libos = undefined;
  });

  it('completes async pops pushed while the loop sleeps, then wakes the peer with end of file', async () => {
    const name = uniqueName('bell');
    libos = new Catmem();
    const qd = libos.createPipe(name);
    const peer = fixture('late-pusher.mjs', name, '5', '150');
    expect(await peer.line()).toBe('ready');
    for (let i = 0; i < 5; i++) {
      const waiting = libos.wait(libos.pop(qd), 5000);
      const [fifo] = fifosOf(process.pid);
      expect(fifo).toBeDefined();
      expect(lstatSync(`/dev/shm/${fifo}`).isFIFO()).toBe(true);
      const r = await waiting;
      expect(Array.from(r.sga!.segments[0]!)).toEqual([i]);
    }
    // The peer's loop sleeps in its wait for end of file: closing rings it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    libos.close(qd);
    expect(await peer.line()).toBe('eof');
    expect((await peer.exited).code).toBe(0);
    await libos.shutdown();
    libos = undefined;
    expect(fifosOf(process.pid)).toEqual([]);
  });

  // Another process's first async wait (other packages' tests) may sweep a
  // stale FIFO first: checks after the kill allow for that, never for a live
  // FIFO going.
  it('a FIFO whose process was killed is stale: removeStaleWakeFifos removes it, a live one stays', async () => {
    libos = new Catmem();
    const mine = libos.wait(libos.pop(libos.createPipe(uniqueName('live'))), 10_000);
    const victimPipe = uniqueName('stale');
    // The killed victim cannot remove its pipe's segment: the test does.
    onTestFinished(() => rmSync(`/dev/shm/demi-catmem.${victimPipe}`, { force: true }));
    const victim = fixture('wait-forever.mjs', victimPipe);
    expect(await victim.line()).toBe('waiting');
    const pid = victim.proc.pid!;
    const [left] = fifosOf(pid);
    expect(left).toBeDefined();
    victim.proc.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const live = fifosOf(process.pid);
    expect(live).toHaveLength(1);
    const stillThere = fifosOf(pid).length === 1;
    const removed = removeStaleWakeFifos();
    if (stillThere) expect(removed).toContain(left);
    expect(fifosOf(pid)).toEqual([]);
    expect(fifosOf(process.pid)).toEqual(live);
    await libos.shutdown();
    expect((await mine).ret).not.toBe(0);
    libos = undefined;
  });

  it("an instance's first async wait sweeps FIFOs left by killed processes", async () => {
    const victimPipe = uniqueName('swept');
    // The killed victim cannot remove its pipe's segment: the test does.
    onTestFinished(() => rmSync(`/dev/shm/demi-catmem.${victimPipe}`, { force: true }));
    const victim = fixture('wait-forever.mjs', victimPipe);
    expect(await victim.line()).toBe('waiting');
    const pid = victim.proc.pid!;
    expect(fifosOf(pid)).toHaveLength(1);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    libos = new Catmem();
    const qd = libos.createPipe(uniqueName('sweeper'));
    const pending = libos.wait(libos.pop(qd), 10_000);
    expect(fifosOf(pid)).toEqual([]);
    expect(fifosOf(process.pid)).toHaveLength(1);
    libos.close(qd);
    expect((await pending).ret).not.toBe(0);
  });

  it("a peer that cannot open this loop's FIFO (no descriptors left) still completes its wait, by the heartbeat", async () => {
    const name = uniqueName('starved');
    libos = new Catmem();
    const qd = libos.createPipe(name);
    const peer = fixtureWithOpenFiles(256, 'starved-pusher.mjs', name);
    expect(await peer.line()).toBe('ready');
    const r = await libos.wait(libos.pop(qd), 5000);
    expect(Array.from(r.sga!.segments[0]!)).toEqual([7]);
    expect(await peer.line()).toMatch(/^pushed with \d+ files held$/);
    libos.close(qd);
    expect(await peer.line()).toBe('eof');
    expect((await peer.exited).code).toBe(0);
  });

  it("ends ringing one peer's loop share one descriptor for its FIFO", async () => {
    const prefix = uniqueName('shared');
    const count = 64;
    libos = new Catmem();
    const qds = Array.from({ length: count }, (_, i) => libos!.createPipe(`${prefix}-${i}`));
    const peer = fixture('many-waiter.mjs', prefix, String(count));
    expect(await peer.line()).toBe('waiting');
    // Let the peer's loop fall asleep on every pipe, so each push rings it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const qd of qds) libos.waitSync(libos.push(qd, { segments: [Uint8Array.of(1)] }), 5000);
    const peerFifo = `/dev/shm/demi-catmem-wake.${peer.proc.pid}.`;
    const open = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(peerFifo);
      } catch {
        return false;
      }
    });
    expect(open).toHaveLength(1);
    expect(await peer.line()).toBe('done');
    expect((await peer.exited).code).toBe(0);
  });
});
