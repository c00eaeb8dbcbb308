import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Catmem, listPipes, removeStalePipes } from '../src/index.js';
import { fixture, uniqueName } from './support/child.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

// Cleaning runs in a directory of its own: other programs' stale pipes in
// /dev/shm are none of these tests' business.
describe('listing and cleaning pipes', () => {
  const directory = mkdtempSync(join(tmpdir(), 'catmem-tools-'));
  const open: Catmem[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.shutdown();
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('lists live pipes with both ends and leaves them alone when cleaning', () => {
    const a = new Catmem({ ringSize: 8192, directory });
    const b = new Catmem({ directory });
    open.push(a, b);
    const name = uniqueName('list');
    a.createPipe(name);
    const mine = () => listPipes({ directory }).find((p) => p.name === name);
    expect(mine()).toEqual({
      name,
      ringSize: 8192,
      state: 'ready',
      ends: [
        { role: 'creator', state: 'open', pid: process.pid, alive: true },
        { role: 'opener', state: 'vacant', pid: 0, alive: false },
      ],
      stale: false,
    });
    b.openPipe(name);
    expect(mine()!.ends[1]).toEqual({
      role: 'opener',
      state: 'open',
      pid: process.pid,
      alive: true,
    });
    expect(removeStalePipes({ directory })).not.toContain(name);
    expect(mine()).toBeDefined();
    const listed = cli('list', '--json', '--dir', directory);
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toContain(name);
    expect(cli('list', '--dir', directory).stdout).toContain(
      `${name}  ready  ring 8192 B  creator open pid ${process.pid} (alive)`,
    );
    // The default place is POSIX shared memory, where this pipe is not.
    expect(listPipes().map((p) => p.name)).not.toContain(name);
  });

  it('finds and removes pipes whose processes died, by API and by CLI', async () => {
    const orphan = async (tag: string) => {
      const name = uniqueName(tag);
      const victim = fixture('victim.mjs', name, 'create', '0', '', directory);
      expect(await victim.line()).toBe('ready');
      expect((await victim.exited).signal).toBe('SIGKILL');
      return name;
    };
    const first = await orphan('stale-api');
    const listed = listPipes({ directory }).find((p) => p.name === first)!;
    expect([listed.stale, listed.ends[0]!.state, listed.ends[0]!.alive]).toEqual([
      true,
      'open',
      false,
    ]);
    expect(cli('list', '--dir', directory).stdout).toMatch(
      new RegExp(`${first}.*creator open pid \\d+ \\(dead\\).*STALE`),
    );
    expect(removeStalePipes({ directory })).toEqual([first]);
    const second = await orphan('stale-cli');
    const cleaned = cli('clean', '--json', '--dir', directory);
    expect(cleaned.status).toBe(0);
    expect(JSON.parse(cleaned.stdout)).toEqual([second]);
    expect(listPipes({ directory })).toEqual([]);
  });

  it('CLI: usage errors exit 2, --help exits 0', () => {
    expect(cli().status).toBe(2);
    expect(cli('frobnicate').stderr).toContain('unknown command frobnicate');
    expect(cli('list', '--nope').status).toBe(2);
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('demi-catmem <command>');
  });
});
