// The TypeScript stack on a raw device against the Linux kernel in the peer
// namespace: ARP, ICMP, TCP as server and client with Debian's tools and
// node:net, UDP both ways, refused and reset connections, closes.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AF_INET,
  ERRNO,
  type LibOS,
  Opcode,
  SO_LINGER,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
} from '@demi/core';
import { bytes, ok, pattern, popExactly, pushAll, sgaOf } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import { formatMac, parseIPv4 } from '@demi/inetstack';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { MODE_CASES } from './helpers.js';
import { type Catpowder, keepPolling, openCatpowder, peerRun, peerStart } from './stack-env.js';

const PEER = fileURLToPath(new URL('./peers/kernel-peer.mjs', import.meta.url));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Accepts one connection and pops until EOF; returns everything received. */
async function acceptAndReadAll(
  libos: LibOS,
  listener: number,
): Promise<{ qd: number; data: Uint8Array }> {
  const qd = (await ok(libos, libos.accept(listener), Opcode.ACCEPT)).accepted!.qd;
  const chunks: Uint8Array[] = [];
  for (;;) {
    const r = await ok(libos, libos.pop(qd), Opcode.POP);
    const b = bytes(r.sga);
    if (b.byteLength === 0) break;
    chunks.push(b.slice());
  }
  return { qd, data: Buffer.concat(chunks) };
}

function listen(libos: LibOS, address: string, port: number): number {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(qd, { address, port });
  libos.listen(qd, 16);
  return qd;
}

for (const mode of MODE_CASES) {
  describePrivileged(
    `catpowder stack (${mode.title}) against the Linux kernel`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();
      let cp: Catpowder;
      let libos: LibOS;
      let port = 20000;

      beforeAll(() => {
        cp = openCatpowder(net.pair, mode.options);
        libos = cp.libos;
      });
      afterAll(async () => {
        await cp?.libos.shutdown();
      });

      it('ARP: the kernel resolves the stack, and the stack resolves the kernel', async () => {
        const { pair } = net;
        const stop = keepPolling(libos);
        try {
          await peerRun(pair, 'ip', ['neigh', 'flush', 'dev', pair.peerIf]);
          const r = await peerRun(pair, 'ping', ['-c', '1', '-W', '5', pair.devIp]);
          expect(r.status).toBe(0);
          const neigh = await peerRun(pair, 'ip', ['neigh', 'show', pair.devIp]);
          expect(neigh.stdout).toContain(`lladdr ${pair.devMac}`);
          // The reply went to the kernel's MAC, which the stack learned by ARP.
          const learned = cp.libos.stack.arp.lookup(parseIPv4(pair.peerIp)!);
          expect(learned && formatMac(learned)).toBe(pair.peerMac);
        } finally {
          stop();
        }
      });

      it('ping from the kernel is answered by the stack, small, large and fragmented', async () => {
        const { pair } = net;
        const stop = keepPolling(libos);
        try {
          for (const size of ['56', '1472', '4000']) {
            const r = await peerRun(pair, 'ping', [
              '-c',
              '10',
              '-i',
              '0.01',
              '-s',
              size,
              '-W',
              '5',
              pair.devIp,
            ]);
            expect(r.stdout + r.stderr, `ping -s ${size}`).toMatch(
              /10 packets transmitted, 10 received/,
            );
          }
        } finally {
          stop();
        }
      });

      it('TCP server: socat, nc and curl connect to the stack', async () => {
        const { pair } = net;
        const echoPort = port++;
        const httpPort = port++;
        const echo = listen(libos, pair.devIp, echoPort);
        const http = listen(libos, pair.devIp, httpPort);
        const serveEcho = async (n: number) => {
          for (let i = 0; i < n; i++) {
            const { qd, data } = await acceptAndReadAll(libos, echo);
            await ok(libos, libos.push(qd, sgaOf(data)), Opcode.PUSH);
            await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
          }
        };
        const serveHttp = async () => {
          const qd = (await ok(libos, libos.accept(http), Opcode.ACCEPT)).accepted!.qd;
          let request = '';
          while (!request.includes('\r\n\r\n'))
            request += text(bytes((await ok(libos, libos.pop(qd), Opcode.POP)).sga));
          const body = `catpowder saw: ${request.split('\r\n')[0]}\n`;
          await ok(
            libos,
            libos.push(
              qd,
              sgaOf(
                `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
              ),
            ),
            Opcode.PUSH,
          );
          await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
        };
        const serving = Promise.all([serveEcho(2), serveHttp()]);
        const viaSocat = await peerRun(
          pair,
          'socat',
          ['-t', '5', '-', `TCP4:${pair.devIp}:${echoPort}`],
          { input: 'hello via socat' },
        );
        const viaNc = await peerRun(pair, 'nc', ['-N', pair.devIp, String(echoPort)], {
          input: 'hello via nc',
        });
        const viaCurl = await peerRun(pair, 'curl', [
          '-sS',
          '--max-time',
          '10',
          `http://${pair.devIp}:${httpPort}/index.html`,
        ]);
        await serving;
        expect(viaSocat.stdout).toBe('hello via socat');
        expect(viaNc.stdout).toBe('hello via nc');
        expect(viaCurl.stdout).toBe('catpowder saw: GET /index.html HTTP/1.1\n');
        libos.close(echo);
        libos.close(http);
      });

      it('TCP client: the stack connects to socat, python3 http.server and node:net', async () => {
        const { pair } = net;
        const socatPort = port++;
        const httpPort = port++;
        const nodePort = port++;
        const dir = mkdtempSync(join(tmpdir(), 'catpowder-http-'));
        const file = pattern(1 << 20, 77);
        writeFileSync(join(dir, 'blob.bin'), file);
        const socat = await peerStart(pair, 'socat', [
          `TCP4-LISTEN:${socatPort},bind=${pair.peerIp},reuseaddr,fork`,
          'EXEC:cat',
        ]);
        const http = await peerStart(
          pair,
          'python3',
          ['-m', 'http.server', String(httpPort), '--bind', pair.peerIp, '--directory', dir],
          /Serving HTTP/,
        );
        const node = await peerStart(
          pair,
          process.execPath,
          [PEER, 'greet-server', pair.peerIp, String(nodePort), 'hello from node:net\n'],
          /listening/,
        );
        try {
          // socat (fork may still be binding: retry the connect a few times)
          let qd = -1;
          for (let attempt = 0; ; attempt++) {
            qd = libos.socket(AF_INET, SOCK_STREAM);
            const r = await libos.wait(
              libos.connect(qd, { address: pair.peerIp, port: socatPort }),
              15_000,
            );
            if (r.ret === 0) break;
            libos.close(qd);
            if (attempt > 20) throw new Error(`connect to socat failed: ${r.ret}`);
            await new Promise((res) => setTimeout(res, 100));
          }
          await ok(libos, libos.push(qd, sgaOf('echo me, socat')), Opcode.PUSH);
          expect(text(await popExactly(libos, qd, 14))).toBe('echo me, socat');
          libos.close(qd);

          // python3 -m http.server: a 1 MiB file, byte-exact
          const h = libos.socket(AF_INET, SOCK_STREAM);
          await ok(
            libos,
            libos.connect(h, { address: pair.peerIp, port: httpPort }),
            Opcode.CONNECT,
          );
          await ok(
            libos,
            libos.push(h, sgaOf(`GET /blob.bin HTTP/1.0\r\nHost: ${pair.peerIp}\r\n\r\n`)),
            Opcode.PUSH,
          );
          const chunks: Uint8Array[] = [];
          for (;;) {
            const b = bytes((await ok(libos, libos.pop(h), Opcode.POP)).sga);
            if (b.byteLength === 0) break;
            chunks.push(b.slice());
          }
          const response = Buffer.concat(chunks);
          const split = response.indexOf('\r\n\r\n');
          expect(response.subarray(0, split).toString()).toMatch(/^HTTP\/1\.0 200/);
          expect(sha256(response.subarray(split + 4))).toBe(sha256(file));
          libos.close(h);

          // node:net
          const n = libos.socket(AF_INET, SOCK_STREAM);
          await ok(
            libos,
            libos.connect(n, { address: pair.peerIp, port: nodePort }),
            Opcode.CONNECT,
          );
          expect(text(await popExactly(libos, n, 20))).toBe('hello from node:net\n');
          const eof = await ok(libos, libos.pop(n), Opcode.POP);
          expect(bytes(eof.sga).byteLength).toBe(0);
          libos.close(n);
        } finally {
          socat.stop();
          http.stop();
          node.stop();
        }
      });

      it('UDP both ways: the stack to a kernel echo, and a kernel client to the stack', async () => {
        const { pair } = net;
        const echoPort = port++;
        const ourPort = port++;
        const echo = await peerStart(
          pair,
          process.execPath,
          [PEER, 'udp-echo', pair.peerIp, String(echoPort)],
          /listening/,
        );
        try {
          const u = libos.socket(AF_INET, SOCK_DGRAM);
          libos.bind(u, { address: pair.devIp, port: ourPort });
          const popQt = libos.pop(u);
          await ok(
            libos,
            libos.pushto(u, sgaOf('udp to the kernel'), { address: pair.peerIp, port: echoPort }),
            Opcode.PUSH,
          );
          const back = await ok(libos, popQt, Opcode.POP);
          expect(text(bytes(back.sga))).toBe('udp to the kernel');
          expect(back.addr ?? back.sga?.addr).toEqual({ address: pair.peerIp, port: echoPort });

          // A kernel client sends to the stack and waits for the answer.
          const serve = (async () => {
            const r = await ok(libos, libos.pop(u), Opcode.POP);
            const from = (r.addr ?? r.sga?.addr)!;
            await ok(
              libos,
              libos.pushto(u, sgaOf(`stack got: ${text(bytes(r.sga))}`), from),
              Opcode.PUSH,
            );
            return from;
          })();
          const client = await peerRun(
            pair,
            'socat',
            ['-t', '2', '-', `UDP4:${pair.devIp}:${ourPort}`],
            { input: 'hi from socat' },
          );
          const from = await serve;
          expect(from.address).toBe(pair.peerIp);
          expect(client.stdout).toBe('stack got: hi from socat');
          libos.close(u);
        } finally {
          echo.stop();
        }
      });

      it('a SYN to a kernel port nobody listens on is refused: ECONNREFUSED', async () => {
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        const r = await libos.wait(
          libos.connect(qd, { address: net.pair.peerIp, port: 1 }),
          15_000,
        );
        expect(r.opcode).toBe(Opcode.FAILED);
        expect(r.ret).toBe(ERRNO.ECONNREFUSED);
        libos.close(qd);
      });

      it('a kernel client to a stack port nobody listens on is refused (the stack sends RST)', async () => {
        const stop = keepPolling(libos);
        try {
          const r = await peerRun(net.pair, process.execPath, [
            PEER,
            'rst-client',
            net.pair.devIp,
            String(port++),
          ]);
          expect(JSON.parse(r.stdout)).toEqual({ error: 'ECONNREFUSED' });
        } finally {
          stop();
        }
      });

      it('resets: the kernel aborting is ECONNRESET here, the stack aborting is ECONNRESET there', async () => {
        const { pair } = net;
        const resetPort = port++;
        const server = await peerStart(
          pair,
          process.execPath,
          [PEER, 'reset-server', pair.peerIp, String(resetPort)],
          /listening/,
        );
        try {
          const qd = libos.socket(AF_INET, SOCK_STREAM);
          await ok(
            libos,
            libos.connect(qd, { address: pair.peerIp, port: resetPort }),
            Opcode.CONNECT,
          );
          const pop = libos.pop(qd);
          await ok(libos, libos.push(qd, sgaOf('provoke')), Opcode.PUSH);
          const r = await libos.wait(pop, 15_000);
          expect(r.opcode).toBe(Opcode.FAILED);
          expect(r.ret).toBe(ERRNO.ECONNRESET);
          libos.close(qd);
        } finally {
          server.stop();
        }

        // SO_LINGER {on, 0}: close aborts with an RST, as on Linux.
        const ourPort = port++;
        const listener = listen(libos, pair.devIp, ourPort);
        const client = peerRun(pair, process.execPath, [
          PEER,
          'rst-client',
          pair.devIp,
          String(ourPort),
        ]);
        const qd = (await ok(libos, libos.accept(listener), Opcode.ACCEPT)).accepted!.qd;
        await ok(libos, libos.pop(qd), Opcode.POP);
        libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
        libos.close(qd);
        const stop = keepPolling(libos);
        try {
          expect(JSON.parse((await client).stdout)).toEqual({ error: 'ECONNRESET' });
        } finally {
          stop();
          libos.close(listener);
        }
      });

      it('close from the kernel side first: every byte, then EOF', async () => {
        const { pair } = net;
        const p = port++;
        const listener = listen(libos, pair.devIp, p);
        const size = 512 * 1024;
        const sender = peerRun(pair, process.execPath, [
          PEER,
          'send-close',
          pair.devIp,
          String(p),
          String(size),
          '11',
        ]);
        const { qd, data } = await acceptAndReadAll(libos, listener);
        expect(data.byteLength).toBe(size);
        expect(sha256(data)).toBe(sha256(pattern(size, 11)));
        await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
        expect(JSON.parse((await sender).stdout)).toEqual({ sent: size });
        libos.close(listener);
      });

      it('close from the stack side first: the kernel reads every byte, then EOF', async () => {
        const { pair } = net;
        const p = port++;
        const listener = listen(libos, pair.devIp, p);
        const size = 512 * 1024;
        const reader = peerRun(pair, process.execPath, [PEER, 'read-all', pair.devIp, String(p)]);
        const qd = (await ok(libos, libos.accept(listener), Opcode.ACCEPT)).accepted!.qd;
        const data = pattern(size, 12);
        await pushAll(libos, qd, data);
        const closed = await libos.wait(libos.asyncClose(qd), 30_000);
        expect(closed.opcode).toBe(Opcode.CLOSE);
        const r = JSON.parse((await reader).stdout);
        expect(r.bytes).toBe(size);
        expect(r.sha256).toBe(sha256(data));
        libos.close(listener);
      });

      it('both close at once after exchanging data: nothing lost either way', async () => {
        const { pair } = net;
        const p = port++;
        const listener = listen(libos, pair.devIp, p);
        const size = 256 * 1024;
        const peer = peerRun(pair, process.execPath, [
          PEER,
          'simultaneous',
          pair.devIp,
          String(p),
          String(size),
          '21',
        ]);
        const qd = (await ok(libos, libos.accept(listener), Opcode.ACCEPT)).accepted!.qd;
        const fromKernel = await popExactly(libos, qd, size);
        expect(sha256(fromKernel)).toBe(sha256(pattern(size, 21)));
        const ours = pattern(size, 22);
        await pushAll(libos, qd, ours);
        // The marker tells the kernel side to close; we close right behind it.
        libos.push(qd, sgaOf('Z'));
        const closed = await libos.wait(libos.asyncClose(qd), 30_000);
        expect(closed.opcode).toBe(Opcode.CLOSE);
        const r = JSON.parse((await peer).stdout);
        expect(r).toEqual({ got: size, sha256: sha256(ours) });
        libos.close(listener);
      });

      // Last: it shuts the LibOS down.
      it('shutdown resets what is still open or closing: the kernel keeps no half of it', async () => {
        const { pair } = net;
        const p = port++;
        const server = await peerStart(
          pair,
          process.execPath,
          [PEER, 'hold-server', pair.peerIp, String(p)],
          /listening/,
        );
        try {
          const open = libos.socket(AF_INET, SOCK_STREAM);
          const closing = libos.socket(AF_INET, SOCK_STREAM);
          for (const qd of [open, closing]) {
            await ok(libos, libos.connect(qd, { address: pair.peerIp, port: p }), Opcode.CONNECT);
            await ok(libos, libos.push(qd, sgaOf('hello')), Opcode.PUSH);
          }
          // Our FIN goes out; the kernel side holds its half open (CLOSE-WAIT).
          await ok(libos, libos.asyncClose(closing), Opcode.CLOSE);
          const states = async () =>
            (await peerRun(pair, 'ss', ['-Htan', 'state', 'all', `sport = :${p}`])).stdout
              .split('\n')
              .map((line) => line.trim().split(/\s+/)[0])
              .filter((state) => state !== undefined && state !== '' && state !== 'LISTEN');
          expect((await states()).sort()).toEqual(['CLOSE-WAIT', 'ESTAB']);
          await libos.shutdown();
          let left = await states();
          for (let i = 0; i < 50 && left.length > 0; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            left = await states();
          }
          expect(left).toEqual([]);
        } finally {
          server.stop();
        }
      });
    },
  );
}
