// Busy-polling after a wake-up (native/wake.cc): async waits catch the next
// completion without going back through the event loop, yet the loop still
// turns (timers fire) and every byte arrives as sent.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
import {
  bytes,
  connectPair,
  equalBytes,
  expectDemiError,
  pattern,
  sgaOf,
} from '@demi/core/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';
import { echoUntilEof } from './support/echo.js';
import { freePort } from './support/ports.js';

let peer: ChildProcess | undefined;
afterEach(() => {
  peer?.kill();
  peer = undefined;
});

/** A node:net echo server in another process (a peer in this one could not answer while we spin). */
async function echoPeer(): Promise<number> {
  peer = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('net').createServer(c=>{c.setNoDelay(true);c.pipe(c)});` +
        `s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = await once(peer.stdout!, 'data');
  return Number(String(line).trim());
}

/**
 * Async round trips of 64-byte messages to the echo peer until `ms` pass (a
 * timer ends them), checking every echo; resolves with the round trips made.
 */
async function pingPong(libos: Catnap, qd: number, ms: number) {
  let stop = false;
  const timer = new Promise<void>((resolve) =>
    setTimeout(() => {
      stop = true;
      resolve();
    }, ms),
  );
  let trips = 0;
  while (!stop) {
    const message = pattern(64, trips + 1);
    const pushed = await libos.wait(libos.push(qd, sgaOf(message)));
    expect([pushed.opcode, pushed.ret]).toEqual([Opcode.PUSH, 0]);
    const echoed = new Uint8Array(64);
    for (let got = 0; got < 64; ) {
      const popped = await libos.wait(libos.pop(qd, 64 - got));
      const data = bytes(popped.sga);
      expect(data.byteLength).toBeGreaterThan(0);
      echoed.set(data, got);
      got += data.byteLength;
    }
    expect(equalBytes(echoed, message)).toBe(true);
    trips++;
  }
  await timer;
  return trips;
}

describe('busy-polling after wake-ups', () => {
  it('round trips are byte-exact with and without spinning', async () => {
    const port = await echoPeer();
    for (const wakeSpinMicros of [0, 50]) {
      const libos = new Catnap({ wakeSpinMicros });
      try {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        const connected = await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
        expect(connected.opcode).toBe(Opcode.CONNECT);
        expect(await pingPong(libos, qd, 200)).toBeGreaterThan(20);
        libos.close(qd);
      } finally {
        await libos.shutdown();
      }
    }
  });

  it('timers fire during a tight async ping-pong: a wake-up gives the loop back within 1 ms', async () => {
    // Both ends on one Catnap: each hop's completion lands in the same epoll
    // set, so a wake-up's spin always finds the next one at once. Without the
    // cap on a wake-up's length the timer would never fire and this would hang.
    const libos = new Catnap({ wakeSpinMicros: 1000 });
    try {
      const c = await connectPair({
        server: libos,
        client: libos,
        serverAddress: '127.0.0.1',
        nextPort: () => freePort(libos),
        closedPort: () => freePort(libos),
        teardown: async () => {},
      });
      const echoing = echoUntilEof(libos, c.serverQd);
      expect(await pingPong(libos, c.clientQd, 300)).toBeGreaterThan(20);
      libos.close(c.clientQd);
      await echoing.catch(() => {});
    } finally {
      await libos.shutdown();
    }
  });

  it('wakeSpinMicros and catnap.wake_spin_us take whole microseconds up to 1000', async () => {
    for (const bad of [-1, 1.5, 1001, Number.NaN])
      expectDemiError(() => new Catnap({ wakeSpinMicros: bad }), 'EINVAL');
    await expect(
      init({ libos: 'catnap', config: { catnap: { wake_spin_us: 2000 } } }),
    ).rejects.toMatchObject({ code: 'EINVAL' });
    const libos = await init({ libos: 'catnap', config: { catnap: { wake_spin_us: 0 } } });
    await libos.shutdown();
  });
});
