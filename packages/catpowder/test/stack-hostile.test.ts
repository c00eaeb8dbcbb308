// The TypeScript stack on a raw device against hostile and careless peers in the
// peer namespace: scapy floods and forgeries (tools/netns/forge.py), the Linux
// kernel as the legitimate client, and an application that pushes, closes and
// never waits again while its first flight is lost and the kernel's window closes.
import { fileURLToPath } from 'node:url';
import { AF_INET, type LibOS, Opcode, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { bytes, ok } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { MODE_CASES, sleep } from './helpers.js';
import { type Catpowder, keepPolling, openCatpowder, peerRun } from './stack-env.js';

const FORGE = fileURLToPath(new URL('../../../tools/netns/forge.py', import.meta.url));
// Debian's interpreter, which has python3-scapy (a user's PATH may lead elsewhere).
const PYTHON = '/usr/bin/python3';
const FLOOD = 20_000;

/** A kernel client: connects, sends `hello`, closes; prints the connect time in ms. */
const CLIENT = `
import socket, sys, time
t = time.monotonic()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
print(round((time.monotonic() - t) * 1000))
s.sendall(b"hello")
s.close()
`;

/** A kernel client with a 4 KiB receive buffer that sleeps before reading to EOF; prints the byte count. */
const SLOW_READER = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect((sys.argv[1], int(sys.argv[2])))
time.sleep(float(sys.argv[3]))
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
print(n)
`;

function listen(libos: LibOS, address: string, port: number, backlog = 16): number {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(qd, { address, port });
  libos.listen(qd, backlog);
  return qd;
}

/** Accepts `n` connections and reads each to EOF; resolves with what each sent. */
async function acceptTexts(libos: LibOS, listener: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Generous: the clients retry their SYNs while the device ring overflows.
    const accepted = await libos.wait(libos.accept(listener), 90_000);
    expect(accepted.opcode).toBe(Opcode.ACCEPT);
    const qd = accepted.accepted!.qd;
    let text = '';
    for (;;) {
      const b = bytes((await ok(libos, libos.pop(qd), Opcode.POP)).sga);
      if (b.byteLength === 0) break;
      text += Buffer.from(b).toString();
    }
    libos.close(qd);
    out.push(text);
  }
  return out;
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

for (const mode of MODE_CASES) {
  describePrivileged(
    `catpowder stack (${mode.title}) against hostile peers`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();
      let cp: Catpowder;
      let libos: Catpowder['libos'];

      beforeAll(() => {
        cp = openCatpowder(net.pair, mode.options, { fault: { seed: 11 } });
        libos = cp.libos;
      });
      afterAll(async () => {
        await cp?.libos.shutdown();
      });

      const flood = (port: number, sources: 'subnet' | 'any', seed: number) => {
        const { pair } = net;
        return peerRun(
          pair,
          PYTHON,
          [
            FORGE,
            'syn-flood',
            pair.peerIf,
            pair.devMac,
            pair.devIp,
            String(port),
            String(FLOOD),
            sources,
            String(seed),
          ],
          { timeoutMs: 120_000 },
        );
      };
      /** The kernel knows the stack's MAC before a flood, as it would from earlier traffic. */
      const resolved = async () => {
        const stop = keepPolling(libos);
        try {
          const r = await peerRun(net.pair, 'ping', ['-c', '1', '-W', '5', net.pair.devIp]);
          expect(r.status).toBe(0);
        } finally {
          stop();
        }
      };
      const client = (port: number) =>
        peerRun(net.pair, PYTHON, ['-c', CLIENT, net.pair.devIp, String(port)], {
          timeoutMs: 30_000,
        });

      it('a legitimate kernel client connects during and right after a 20,000-SYN flood', async () => {
        const stack = libos.stack;
        const l = listen(libos, net.pair.devIp, 8080);
        await resolved();
        const texts = acceptTexts(libos, l, 2);
        texts.catch(() => {});
        const before = { ...stack.stats };
        const heap = process.memoryUsage();
        const started = performance.now();
        const flooding = flood(8080, 'subnet', 1);
        await sleep(100);
        const during = await client(8080);
        const flooded = await flooding;
        const floodMs = performance.now() - started;
        const after = await client(8080);
        expect(flooded.stdout).toContain(`sent ${FLOOD}`);
        expect([during.status, during.stderr]).toEqual([0, '']);
        expect([after.status, after.stderr]).toEqual([0, '']);
        expect(await texts).toEqual(['hello', 'hello']);
        const s = stack.stats;
        const synsIn = s.tcpIn - before.tcpIn;
        expect(s.tcpSynCookiesSent - before.tcpSynCookiesSent).toBeGreaterThan(0);
        expect(stack.tcp.connectionCount).toBeLessThanOrEqual(stack.config.tcp.synBacklog + 2);
        const now = process.memoryUsage();
        console.log(
          `[${mode.title}] SYN flood: ${synsIn} segments in over ${floodMs.toFixed(0)} ms; ` +
            `connect during ${during.stdout.trim()} ms, after ${after.stdout.trim()} ms; ` +
            `cookies sent ${s.tcpSynCookiesSent - before.tcpSynCookiesSent}, valid ${s.tcpSynCookiesValid - before.tcpSynCookiesValid}; ` +
            `frames out ${s.txFrames - before.txFrames}, ARP out ${s.arpOut - before.arpOut}; ` +
            `connections ${stack.tcp.connectionCount}; heap ${mb(heap.heapUsed)} -> ${mb(now.heapUsed)}, rss ${mb(heap.rss)} -> ${mb(now.rss)}`,
        );
        libos.close(l);
      });

      it('a random-source SYN flood sends no ARP and keeps the stack state bounded', async () => {
        const stack = libos.stack;
        const l = listen(libos, net.pair.devIp, 8081);
        await resolved();
        const texts = acceptTexts(libos, l, 1);
        texts.catch(() => {});
        const before = { ...stack.stats };
        const heap = process.memoryUsage();
        const flooded = await flood(8081, 'any', 2);
        expect(flooded.stdout).toContain(`sent ${FLOOD}`);
        const after = await client(8081);
        expect([after.status, after.stderr]).toEqual([0, '']);
        expect(await texts).toEqual(['hello']);
        const s = stack.stats;
        expect(s.arpOut - before.arpOut).toBe(0);
        expect(stack.arp.pendingCount).toBe(0);
        expect(stack.arp.cache.size).toBeLessThanOrEqual(stack.config.arp.cacheLimit);
        expect(stack.tcp.connectionCount).toBeLessThanOrEqual(stack.config.tcp.synBacklog + 1);
        expect(s.rxMartian - before.rxMartian).toBeGreaterThan(0);
        const now = process.memoryUsage();
        console.log(
          `[${mode.title}] random-source flood: martian ${s.rxMartian - before.rxMartian}, no route ${s.ipNoRoute - before.ipNoRoute}, ` +
            `SYN-ACKs to the frame source ${s.txToFrameSource - before.txToFrameSource}, ARP out ${s.arpOut - before.arpOut}; ` +
            `connections ${stack.tcp.connectionCount}, ARP entries ${stack.arp.cache.size}; heap ${mb(heap.heapUsed)} -> ${mb(now.heapUsed)}, rss ${mb(heap.rss)} -> ${mb(now.rss)}`,
        );
        libos.close(l);
      });

      it('a fragmented UDP datagram with a forged checksum is not delivered', async () => {
        const { pair } = net;
        const qd = libos.socket(AF_INET, SOCK_DGRAM);
        libos.bind(qd, { address: pair.devIp, port: 7007 });
        const before = libos.stack.stats.rxBadChecksum;
        const popped = ok(libos, libos.pop(qd), Opcode.POP);
        const r = await peerRun(pair, PYTHON, [
          FORGE,
          'frag-udp',
          pair.peerIf,
          pair.devMac,
          pair.peerIp,
          pair.devIp,
          '7007',
        ]);
        expect(r.stdout).toContain('sent 6');
        const first = bytes((await popped).sga);
        expect(first.byteLength).toBe(3000);
        expect(Buffer.from(first).equals(Buffer.alloc(3000, 'G'))).toBe(true);
        expect(libos.stack.stats.rxBadChecksum).toBe(before + 1);
        libos.close(qd);
      });

      it('push and close with no wait after: the lost first flight is resent and a zero window probed', async () => {
        const { pair } = net;
        const l = listen(libos, pair.devIp, 8082);
        const reading = peerRun(pair, PYTHON, ['-c', SLOW_READER, pair.devIp, '8082', '2'], {
          timeoutMs: 60_000,
        });
        const qd = (await ok(libos, libos.accept(l), Opcode.ACCEPT)).accepted!.qd;
        const data = new Uint8Array(100_000).fill(0x5a);
        // The first flight and its early retransmissions are lost.
        cp.fault!.setFaults({ dropPct: 100, direction: 'tx' });
        setTimeout(() => cp.fault!.setFaults({ dropPct: 0 }), 1500);
        const timeouts = libos.stack.stats.tcpTimeouts;
        libos.push(qd, { segments: [data] });
        libos.close(qd);
        libos.close(l);
        // From here on this application does nothing with its LibOS.
        const r = await reading;
        expect([r.status, r.stdout.trim()]).toEqual([0, '100000']);
        expect(libos.stack.stats.tcpTimeouts).toBeGreaterThan(timeouts);
      });
    },
  );
}
