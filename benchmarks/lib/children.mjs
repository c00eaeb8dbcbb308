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
import { cpuNs } from './proc.mjs';

const READY_TIMEOUT_MS = 20_000;
/** How long a child stopped with SIGTERM has to clean up before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/** Starts a server child; resolves with what it printed after `ready` and a stop function. */
export function startServer(command, args, options = {}) {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let out = '';
  let err = '';
  // SIGTERM first, so a server on shared memory can remove its segments.
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    force.unref();
    child.once('exit', () => clearTimeout(force));
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
export async function runClient(command, args, ctx, options = {}) {
  return (await runClientMeasured(command, args, ctx, options)).samplesNs;
}

/**
 * Runs a client child to completion; resolves with its samples and the CPU time
 * the client and `options.serverPid` spent per measured round trip. CPU is read
 * from /proc at the client's first and last progress line, so warm-up and
 * process start-up are not counted.
 */
export async function runClientMeasured(command, args, ctx, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'demi-bench-'));
  const out = join(dir, 'samples.f64');
  const marks = [];
  try {
    await runChild(command, [...args, '--out', out], ctx, {
      ...options,
      onProgress: (fraction, child) => {
        marks.push({
          fraction,
          client: cpuNs(child.pid),
          server: options.serverPid === undefined ? undefined : cpuNs(options.serverPid),
        });
      },
    });
    const bytes = readFileSync(out);
    const samplesNs = Array.from(
      new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8),
    );
    return { samplesNs, cpu: cpuPerRoundTrip(marks, samplesNs.length) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpuPerRoundTrip(marks, iterations) {
  if (marks.length < 2) return undefined;
  const first = marks[0];
  const last = marks[marks.length - 1];
  const roundTrips = Math.round((last.fraction - first.fraction) * iterations);
  if (!(roundTrips > 0) || first.client === undefined || last.client === undefined)
    return undefined;
  const per = (a, b) => (a === undefined || b === undefined ? undefined : (b - a) / roundTrips);
  return {
    roundTrips,
    clientNs: per(first.client, last.client),
    serverNs: per(first.server, last.server),
  };
}

/**
 * Runs a child to completion and resolves with its stdout. Its stderr lines
 * `progress <0..1>` go to ctx.progress (and options.onProgress(fraction, child)),
 * `mark <name>` lines to options.onMark(name, child); anything else is kept for
 * the error message. The child is stopped (SIGTERM, then SIGKILL) when ctx.signal aborts.
 */
export function runChild(command, args, ctx, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', options.stdout === 'inherit' ? 'inherit' : 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let out = '';
    let err = '';
    let pending = '';
    // SIGTERM first, so a client on shared memory can remove its segments.
    const onAbort = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    ctx.signal?.addEventListener('abort', onAbort);
    child.stdout?.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const progress = /^progress ([\d.]+)/.exec(line);
        const mark = /^mark (\S+)/.exec(line);
        if (progress) {
          options.onProgress?.(Number(progress[1]), child);
          ctx.progress(Number(progress[1]));
        } else if (mark) options.onMark?.(mark[1], child);
        else err += `${line}\n`;
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      ctx.signal?.removeEventListener('abort', onAbort);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `client ${command} ${args.join(' ')} failed (${code ?? signal}): ${(err + pending).trim()}`,
          ),
        );
    });
  });
}

/** The last line of a child's stdout that is a JSON object. */
export function lastJson(stdout) {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON result in the client output: ${stdout.trim()}`);
  return JSON.parse(line);
}

/** A ping-pong row's run: start the server, run the client against it, stop the server; resolves {samplesNs, cpu}. */
export async function pingPong(ctx, server, client) {
  const srv = startServer(server.command, server.args, server);
  try {
    const endpoint = await srv.ready;
    return await runClientMeasured(client.command, client.args(endpoint), ctx, {
      ...client,
      serverPid: srv.child.pid,
    });
  } finally {
    srv.stop();
  }
}
