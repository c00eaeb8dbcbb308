// Shared by the stack-level suites: a catpowder LibOS on the dev side of a
// namespace pair, kernel peers started asynchronously in the peer namespace
// (a synchronous spawn would stop the event loop and so the stack).
import { spawn } from 'node:child_process';
import { AF_INET, type DemiConfig, type LibOS, Opcode, SOCK_DGRAM } from '@demi/core';
import { FaultDevice, type FaultOptions, InetStackLibOS } from '@demi/inetstack';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import type { NetnsPair } from '../../../tools/netns/index.mjs';
import { createCatpowder, RawDevice, type RawDeviceOptions } from '../src/index.js';

export interface Catpowder {
  libos: InetStackLibOS;
  device: RawDevice;
  fault?: FaultDevice;
}

export function stackConfig(pair: NetnsPair, extra: DemiConfig = {}): DemiConfig {
  return {
    ...extra,
    demikernel: { local_ipv4_addr: pair.devIp, prefix_length: 24, ...extra.demikernel },
  };
}

/** Every suite that opens a stack here fails a test after which it swallowed an exception. */
const track = failOnInternalErrors();

/** A catpowder LibOS on pair.devIf, optionally behind a fault-injecting device. */
export function openCatpowder(
  pair: NetnsPair,
  device: RawDeviceOptions,
  options: { fault?: FaultOptions; config?: DemiConfig } = {},
): Catpowder {
  const config = stackConfig(pair, options.config);
  const deviceOptions = { interfaceName: pair.devIf, netns: pair.devNs, ...device };
  if (options.fault === undefined) {
    const libos = track(createCatpowder(config, deviceOptions));
    return { libos, device: libos.stack.device as RawDevice };
  }
  const raw = new RawDevice(deviceOptions);
  const fault = new FaultDevice(raw, options.fault);
  return {
    libos: track(new InetStackLibOS({ name: 'catpowder', device: fault, config })),
    device: raw,
    fault,
  };
}

/**
 * Keeps the LibOS making progress (answering ARP, ICMP, TCP) while no other
 * operation is awaited: a pop on a spare UDP socket stays outstanding until stop().
 */
export function keepPolling(libos: LibOS, port = 9): () => void {
  const qd = libos.socket(AF_INET, SOCK_DGRAM);
  libos.bind(qd, { address: '0.0.0.0', port });
  libos.wait(libos.pop(qd)).then(
    (r) => {
      if (r.opcode !== Opcode.FAILED)
        throw new Error('the keep-polling socket received a datagram');
    },
    () => {},
  );
  return () => {
    // A scenario may have shut the LibOS down already (which cancelled the pop).
    try {
      libos.close(qd);
    } catch {}
  };
}

export interface PeerResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in the peer namespace without blocking the event loop. */
export function peerRun(
  pair: NetnsPair,
  cmd: string,
  args: string[],
  options: { input?: string | Uint8Array; timeoutMs?: number; side?: 'peer' | 'dev' } = {},
): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const [bin, argv] = pair.argv(options.side ?? 'peer', cmd, args);
    const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')}: no exit within ${options.timeoutMs ?? 30_000} ms; stderr: ${Buffer.concat(err).toString()}`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({
        status,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    // A command that exits without reading its input (ip, ping) closes the pipe first: EPIPE is no failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Starts a long-running peer; resolves once `ready` appears on its stdout or stderr (or after a short grace). */
export async function peerStart(pair: NetnsPair, cmd: string, args: string[], ready?: RegExp) {
  const [bin, argv] = pair.argv('peer', cmd, args);
  const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => (ready ? reject(new Error(`${cmd} did not get ready: ${output}`)) : resolve()),
      ready ? 10_000 : 300,
    );
    if (ready) {
      const check = () => {
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
    }
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (ready && !ready.test(output))
        reject(new Error(`${cmd} exited (${code}) before it was ready: ${output}`));
    });
  });
  return {
    child,
    output: () => output,
    stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Waits until a TCP port listens in the peer namespace (ss), for servers that print nothing. */
export async function waitListening(
  pair: NetnsPair,
  port: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await peerRun(pair, 'ss', ['-Htln', `sport = :${port}`]);
    if (r.stdout.trim() !== '') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on port ${port} in ${pair.peerNs}`);
}
