import { spawn, spawnSync } from 'node:child_process';
import { AF_INET, Opcode, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { pattern, popExactly, sgaOf } from '@demi/core/conformance';
import { describePrivileged } from '@demi/core/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';
import { echoServer } from './support/echo.js';
import { freePort } from './support/ports.js';

// socat is a peer nobody here wrote. CI installs it (packages/catnap/apt-packages.txt);
// elsewhere the suite is reported as skipped with the reason, never silently.
function missingSocat(): string | undefined {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.status === 0 ? undefined : 'needs socat (apt-get install -y socat)';
}

/** Runs socat with `input` on stdin; resolves with its stdout once it exits. */
function socat(
  args: string[],
  input?: Buffer,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += String(c)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    if (input === undefined) child.stdin.end();
    else child.stdin.end(input);
  });
}

describePrivileged('catnap with socat', missingSocat, () => {
  let libos: Catnap;
  beforeEach(() => {
    libos = new Catnap();
  });
  afterEach(async () => {
    await libos.shutdown();
  });

  it('catnap TCP server echoes to a socat client, byte exact', async () => {
    const listener = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(listener, { address: '127.0.0.1', port: 0 });
    libos.listen(listener, 8);
    const { port } = libos.getsockname(listener);
    const serving = echoServer(libos, listener, 1);
    const input = Buffer.from(pattern(256 * 1024, 7));
    // -t: after stdin ends, wait for the echo and the server's close.
    const result = await socat(['-t', '10', '-', `TCP:127.0.0.1:${port}`], input);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.equals(input)).toBe(true);
    expect(await serving).toEqual([input.byteLength]);
    libos.close(listener);
  });

  it('catnap TCP client talks to a socat echo server', async () => {
    const port = freePort(libos);
    const server = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'PIPE'], {
      stdio: 'ignore',
    });
    try {
      // socat needs a moment to listen: retry while the port refuses.
      let qd = -1;
      for (let attempt = 0; attempt < 100; attempt++) {
        qd = libos.socket(AF_INET, SOCK_STREAM);
        const r = await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
        if (r.opcode === Opcode.CONNECT) break;
        libos.close(qd);
        qd = -1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(qd).toBeGreaterThan(0);
      const message = pattern(100_000, 9);
      expect((await libos.wait(libos.push(qd, sgaOf(message)))).opcode).toBe(Opcode.PUSH);
      expect(
        Buffer.from(await popExactly(libos, qd, message.byteLength)).equals(Buffer.from(message)),
      ).toBe(true);
      libos.close(qd);
    } finally {
      server.kill();
    }
  });

  it('catnap UDP socket answers a socat datagram', async () => {
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    libos.bind(qd, { address: '127.0.0.1', port: 0 });
    const { port } = libos.getsockname(qd);
    const answering = (async () => {
      const got = await libos.wait(libos.pop(qd));
      const text = Buffer.from(got.sga!.segments[0]!).toString();
      await libos.wait(libos.pushto(qd, sgaOf(text.toUpperCase()), got.addr!));
      return text;
    })();
    // socat sends its stdin as one datagram and prints what comes back; it is stopped
    // once the answer arrived (UDP has no end of stream to make it exit).
    const child = spawn('socat', ['-', `UDP:127.0.0.1:${port}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let answer = '';
    const answered = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        answer += String(chunk);
        if (answer.length >= 13) resolve();
      });
    });
    child.stdin.write('ping over udp');
    expect(await answering).toBe('ping over udp');
    await answered;
    child.kill();
    expect(answer).toBe('PING OVER UDP');
    libos.close(qd);
  });
});
