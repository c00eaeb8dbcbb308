// What /proc says about a child process: CPU time (all its threads) and memory.
// Linux only; elsewhere these return undefined and the rows leave the columns empty.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let tickNs;
function nsPerTick() {
  if (tickNs === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const hz = Number.parseInt(r.stdout ?? '', 10);
    tickNs = 1e9 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
  }
  return tickNs;
}

/** User + system CPU time of a live process in nanoseconds (clock-tick resolution), or undefined. */
export function cpuNs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * nsPerTick(); // utime, stime
  } catch {
    return undefined;
  }
}

/** Resident set size and its peak of a live process in bytes, or undefined. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}
