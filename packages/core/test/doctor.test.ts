import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `demi doctor` from core's build, in an application directory laid out as npm would.
const coreDir = resolve(__dirname, '..');
const dirs: string[] = [];

function app(backends: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'demi-doctor-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'node_modules/@demi'), { recursive: true });
  symlinkSync(coreDir, join(dir, 'node_modules/@demi/core'));
  for (const name of backends) {
    const pkg = join(dir, 'node_modules/@demi', name);
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: `@demi/${name}`, version: '9.9.9' }),
    );
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  return dir;
}

function doctor(dir: string, json = true) {
  return spawnSync(
    process.execPath,
    [join(coreDir, 'dist/doctor.js'), 'doctor', ...(json ? ['--json'] : [])],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('demi doctor', () => {
  it('with no LibOS installed, says what to install and exits 0', () => {
    const r = doctor(app([]), false);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('No LibOS is installed: npm install @demi/catnap');
  });

  it('an installed LibOS whose addon is nowhere: every path tried, the build command, exit 1', () => {
    const dir = app(['catmem']);
    const r = doctor(dir);
    expect(r.status).toBe(1);
    const [report] = JSON.parse(r.stdout);
    expect(report).toMatchObject({ name: 'catmem', version: '9.9.9', ready: false });
    const pkg = join(dir, 'node_modules/@demi/catmem');
    expect(report.loadError).toContain(`${pkg}/build/Release/demi_catmem.node (no such file)`);
    expect(report.loadError).toContain(
      `${pkg}/prebuilds/linux-${process.arch}-glibc/demi_catmem.node`,
    );
    expect(report.loadError).toContain('npx demi-build-addon @demi/catmem');
  });

  it("names the binary it loaded and what the LibOS still lacks (catmem's source build)", () => {
    const built = resolve(coreDir, '../catmem/build/Release/demi_catmem.node');
    const dir = app(['catmem']);
    mkdirSync(join(dir, 'node_modules/@demi/catmem/build/Release'), { recursive: true });
    symlinkSync(built, join(dir, 'node_modules/@demi/catmem/build/Release/demi_catmem.node'));
    const r = doctor(dir);
    const [report] = JSON.parse(r.stdout);
    // npm test builds every package first; alone, build catmem before this file.
    expect(report.loadError, 'catmem is not built: npx nx run @demi/catmem:build').toBeUndefined();
    expect(report.binary).toMatchObject({
      source: 'source',
      platform: `linux-${process.arch}-glibc`,
    });
    expect(report.ready).toBe(true);
    expect(r.status).toBe(0);
  });
});
