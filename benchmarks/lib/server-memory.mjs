// A server's own view of its memory, for the memory rows: on SIGUSR2 it prints
// one line `memory {json}` on stdout. With --expose-gc it collects garbage
// first (twice: the second pass frees what the first one's finalizers let go),
// so the numbers are what live connections hold, not garbage not yet collected.
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

function statusKb(status, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** What this process holds now: RSS split by kind, V8's heap, and buffers outside it. */
export function memorySnapshot() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const usage = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {}
  const spaces = {};
  for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.space_used_size;
  return {
    rssBytes: usage.rss,
    rssAnonBytes: statusKb(status, 'RssAnon'),
    rssFileBytes: statusKb(status, 'RssFile'),
    heapTotalBytes: usage.heapTotal,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
    spaces,
  };
}

/** Prints `memory {connections, ...memorySnapshot()}` on each SIGUSR2. */
export function reportMemoryOnSignal(connections) {
  process.on('SIGUSR2', () => {
    const line = JSON.stringify({ connections: connections(), ...memorySnapshot() });
    process.stdout.write(`memory ${line}\n`);
  });
}
