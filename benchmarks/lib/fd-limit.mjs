// Open-file limits for rows with thousands of connections: every connection is
// a file descriptor in the server and one in the client. Node raises its soft
// limit to the hard limit at start-up, so only the hard limit matters; when it
// is too low, root can raise it for one child with prlimit(1).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function hardLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    return hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
  } catch {
    return undefined; // not Linux: leave the limit alone
  }
}

let prlimitFound;
function havePrlimit() {
  prlimitFound ??= spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  return prlimitFound;
}

/**
 * `{command, args}` that runs `command args` with at least `need` open files
 * allowed, or `{skip: reason}` when this machine cannot give that many.
 */
export function withOpenFiles(need, command, args) {
  const hard = hardLimit();
  if (hard === undefined || hard >= need) return { command, args };
  const want = Math.max(need, 65536);
  if (process.getuid?.() === 0 && havePrlimit()) {
    return { command: 'prlimit', args: [`--nofile=${want}:${want}`, '--', command, ...args] };
  }
  return {
    skip: `needs ${need} open files but the hard limit is ${hard} (raise it: ulimit -Hn ${want}, or run as root with prlimit installed)`,
  };
}
