// How catnip fails when DPDK cannot start: a bad EAL argument (DPDK's own
// words and log, and what to try), a retry in the same process, and an addon
// that was built without DPDK, is missing, or cannot find DPDK's libraries.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemiError } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CatnipDevice, ealStatus } from '../src/index.js';
import { missingDpdk } from './helpers.js';

const pkg = join(import.meta.dirname, '..');
const built = join(pkg, 'build', 'Release', 'demi_catnip.node');
const fixture = join(import.meta.dirname, 'fixtures', 'open-device.ts');
const tmp = mkdtempSync(join(tmpdir(), 'demi-catnip-errors-'));

function openWith(
  addon: string,
  args: string[] = [],
): { ok: boolean; code?: string; message?: string; name?: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, DEMI_CATNIP_ADDON: addon },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describePrivileged('catnip when the EAL refuses to start', missingDpdk, () => {
  it("a bad EAL argument is a DemiError with DPDK's message, its log and what to try", () => {
    let error: DemiError | undefined;
    try {
      new CatnipDevice({
        ealArgs: ['demi', '--no-huge', '--no-pci', '--no-shconf', '--definitely-not-an-eal-option'],
      });
    } catch (err) {
      error = err as DemiError;
    }
    expect(error).toBeInstanceOf(DemiError);
    expect(error!.code).toBe('EINVAL');
    expect(error!.syscall).toBe('rte_eal_init');
    expect(error!.message).toMatch(/rte_eal_init failed: Invalid argument/);
    expect(error!.message).toMatch(/DPDK log:[\s\S]*Invalid 'command line' arguments/);
    expect(error!.message).toMatch(/Check dpdk\.eal_init/);
    expect(ealStatus().state).toBe('down');
  });

  it('a corrected retry in the same process starts DPDK', () => {
    const device = new CatnipDevice({ vdevs: ['net_null0'] });
    expect(device.port.driver).toBe('net_null');
    expect(ealStatus()).toMatchObject({
      state: 'up',
      lastFailure: expect.stringMatching(/Invalid argument/),
    });
    device.close();
  });

  it('a retry after a failure that had parsed -l says to start a new process', () => {
    // DPDK 22.11 remembers the -l of the failed attempt and refuses the next one.
    const r = openWith(built, ['after-bad-l']);
    expect(r).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(r.message).toMatch(
      /An earlier rte_eal_init in this process failed .* start a new process/,
    );
  });
});

describe('catnip when its addon has no DPDK', () => {
  it('a missing addon says how to build it', () => {
    const r = openWith(join(tmp, 'absent.node'));
    expect(r).toMatchObject({ ok: false, name: 'DemiError', code: 'ENOTSUP' });
    expect(r.message).toMatch(
      /could not be loaded[\s\S]*absent\.node \(no such file\)[\s\S]*npx demi-build-addon @demi\/catnip/,
    );
  });

  describePrivileged(
    'with the real addon',
    () => (existsSync(built) ? missingDpdk() : 'addon not built'),
    () => {
      it('an addon whose DPDK libraries are gone says to install them', () => {
        // The built addon with one DT_NEEDED entry renamed: exactly what the
        // loader reports when DPDK is uninstalled after the build.
        const bytes = readFileSync(built);
        const needle = Buffer.from('librte_eal.so.');
        const at = bytes.indexOf(needle);
        expect(at).toBeGreaterThan(0);
        Buffer.from('librte_zzz.so.').copy(bytes, at);
        const broken = join(tmp, 'broken.node');
        writeFileSync(broken, bytes);
        const r = openWith(broken);
        expect(r).toMatchObject({ ok: false, code: 'ENOTSUP' });
        expect(r.message).toMatch(
          /DPDK's libraries are missing here .*librte_zzz[\s\S]*apt-get install dpdk/,
        );
      });
    },
  );

  it('a stub build (no DPDK at build time) builds, loads, and says what to install', () => {
    const out = join(tmp, 'stub-build');
    const r = spawnSync(
      process.execPath,
      [
        join(pkg, '../../node_modules/cmake-js/bin/cmake-js'),
        'build',
        '--directory',
        pkg,
        '--out',
        out,
        '--CDDEMI_CATNIP_NO_DPDK=ON',
      ],
      { cwd: pkg, encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const stub = join(tmp, 'stub.node');
    copyFileSync(join(out, 'Release', 'demi_catnip.node'), stub);
    const opened = openWith(stub);
    expect(opened).toMatchObject({ ok: false, code: 'ENOTSUP' });
    expect(opened.message).toMatch(
      /built without DPDK: apt-get install dpdk libdpdk-dev pkg-config, then npm run build/,
    );
  }, 300_000);
});
