// Child processes for ping-pong rows: a server that says when it is ready, and
// a client that measures, reports progress and hands its samples back.
//
// Server protocol: the child prints `ready <port-or-path>` on stdout once it
// accepts connections; it is killed when the row ends.
// Client protocol: the child takes `--out <file>`; it may print
// `progress <0..1>` lines on stderr while it runs; when done it writes its
// round-trip samples (nanoseconds, float64 little-endian) to <file> and exits 0.
// Anything else on stderr is kept for the error message if it fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 20_000;

/** Starts a server child; resolves with what it printed after `ready` and a stop function. */
export function startServer(command, args, options = {}) {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let out = '';
  let err = '';
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(
        new Error(
          `server ${command} ${args.join(' ')} not ready within ${READY_TIMEOUT_MS} ms: ${err}`,
        ),
      );
    }, READY_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
      const match = /^ready (\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr.on('data', (chunk) => (err += String(chunk)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `server ${command} exited (${code ?? signal}) before it was ready: ${err.trim()}`,
        ),
      );
    });
  });
  return { ready, stop, child };
}

/** Runs a client child to completion; resolves with its samples. */
export function runClient(command, args, ctx, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'demi-bench-'));
  const out = join(dir, 'samples.f64');
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args, '--out', out], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: options.env ?? process.env,
    });
    let err = '';
    let pending = '';
    child.stderr.on('data', (chunk) => {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const match = /^progress ([\d.]+)/.exec(line);
        if (match) ctx.progress(Number(match[1]));
        else err += `${line}\n`;
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      try {
        if (code !== 0)
          throw new Error(
            `client ${command} ${args.join(' ')} failed (${code ?? signal}): ${(err + pending).trim()}`,
          );
        const bytes = readFileSync(out);
        resolve(Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)));
      } catch (e) {
        reject(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** A ping-pong row's run: start the server, run the client against it, stop the server. */
export async function pingPong(ctx, server, client) {
  const srv = startServer(server.command, server.args, server);
  try {
    const endpoint = await srv.ready;
    const samplesNs = await runClient(client.command, client.args(endpoint), ctx, client);
    return { samplesNs };
  } finally {
    srv.stop();
  }
}
