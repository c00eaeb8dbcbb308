import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Each failure is forced in a child process, so a native abort would show as
// a signal there instead of ending the test runner.
function runFixture(name: string): { status: number | null; signal: string | null; out: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

describe('native failures never abort the process', () => {
  it('an allocation the engine cannot make (std::bad_alloc) is a DemiError ENOMEM', () => {
    const r = runFixture('push-out-of-memory.ts');
    expect(r.signal, r.out).toBe(null);
    expect(r.status, r.out).toBe(0);
    const result = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ threw: true, demiError: true, code: 'ENOMEM', alive: true });
  });
});
