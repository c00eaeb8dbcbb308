import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_SERVER = fileURLToPath(
  new URL('../../../../examples/http/server.mjs', import.meta.url),
);

export interface RunningExample {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** Starts examples/http/server.mjs (optionally through a wrapper such as `ip netns exec`). */
export function startExample(
  env: Record<string, string>,
  options: { address?: string; wrap?: string[] } = {},
): Promise<RunningExample> {
  const args = [EXAMPLE_SERVER, '--port', '0', '--address', options.address ?? '127.0.0.1'];
  const [bin, ...argv] = [...(options.wrap ?? []), process.execPath, ...args];
  const child = spawn(bin!, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the http example did not start: ${output}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(m[1]),
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the http example exited with ${code}: ${output}`));
    });
  });
}

/** The sha256 of /big?mb=N's body: byte i is i % 251. */
export function bigDigest(bytes: number): string {
  const hash = createHash('sha256');
  const block = Buffer.alloc(251 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = i % 251;
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, block.length);
    hash.update(block.subarray(0, n));
    left -= n;
  }
  return hash.digest('hex');
}

/** Runs a command without blocking the event loop (a LibOS in this process keeps working). */
export function run(
  bin: string,
  args: string[],
  options: { encoding?: 'buffer' | 'utf8'; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { encoding: 'buffer', maxBuffer: 1 << 30, timeout: options.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr: stderr.toString() });
      },
    );
  });
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
