import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { expect, it } from 'vitest';

// As root the fixture needs a cgroup v1 pids hierarchy (RLIMIT_NPROC does not bind root).
const missingLimit = (): string | undefined =>
  process.getuid?.() !== 0 || existsSync('/sys/fs/cgroup/pids/cgroup.procs')
    ? undefined
    : 'needs /sys/fs/cgroup/pids (a cgroup v1 pids hierarchy) to limit tasks as root';

describePrivileged('native failures never abort the process', missingLimit, () => {
  it('an async wait needs no thread: under a task limit it completes and nothing aborts', () => {
    const name = `nothread-${process.pid}-${Date.now()}`;
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/no-thread.ts', import.meta.url)), name],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const out = `${r.stdout}${r.stderr}`;
    // A native abort would show as a signal (SIGABRT) here.
    expect(r.signal, out).toBe(null);
    expect(r.status, out).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ threw: false, got: 1, alive: true });
  });
});
