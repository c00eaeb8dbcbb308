// Open-file limits for rows with thousands of connections: every connection is
// a file descriptor in the server and one in the client. Node raises its soft
// limit to the hard limit at start-up, so only the hard limit matters; when it
// is too low, a process allowed to (CAP_SYS_RESOURCE) raises it for one child
// with prlimit(1); otherwise the row says what to raise.
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

const raisable = new Map();
/** Whether prlimit(1) can give a child `files` open files here (it needs CAP_SYS_RESOURCE); '' if so, else why not. */
function prlimitCannot(files) {
  if (!raisable.has(files)) {
    const r = spawnSync('prlimit', [`--nofile=${files}:${files}`, '--', 'true'], {
      encoding: 'utf8',
    });
    raisable.set(
      files,
      r.status === 0 ? '' : r.error?.message || r.stderr?.trim() || `exit ${r.status}`,
    );
  }
  return raisable.get(files);
}

/**
 * `{command, args}` that runs `command args` with at least `need` open files
 * allowed, or `{skip: reason}` when this machine cannot give that many.
 */
export function withOpenFiles(need, command, args) {
  const hard = hardLimit();
  if (hard === undefined || hard >= need) return { command, args };
  const why = prlimitCannot(need);
  if (!why)
    return { command: 'prlimit', args: [`--nofile=${need}:${need}`, '--', command, ...args] };
  return {
    skip: `needs ${need} open files but the hard limit is ${hard}, and prlimit cannot raise it (${why}); raise it before the run: ulimit -Hn ${need}`,
  };
}
