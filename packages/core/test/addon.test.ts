import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addonPaths,
  DemiError,
  explainLoadError,
  loadAddon,
  loadedAddon,
  platformTag,
} from '../src/index.js';

// A package laid out as the backends are: src/ beside build/Release, whose .node is not a real addon.
const root = mkdtempSync(join(tmpdir(), 'demi-addon-'));
mkdirSync(join(root, 'src'));
mkdirSync(join(root, 'build', 'Release'), { recursive: true });
const release = join(root, 'build', 'Release', 'demi_fake.node');
const debug = join(root, 'build', 'Debug', 'demi_fake.node');
const prebuilt = join(root, 'prebuilds', platformTag(), 'demi_fake.node');
writeFileSync(release, 'not an ELF object');
const override = join(root, 'override.cjs');
writeFileSync(override, "module.exports = { from: 'override' };");
const fromUrl = pathToFileURL(join(root, 'src', 'native.js')).href;
const hint = 'Or set DEMI_FAKE_ADDON.';
const spec = (env: NodeJS.ProcessEnv) => ({
  name: 'fake',
  fromUrl,
  envVar: 'DEMI_FAKE_ADDON',
  buildHint: hint,
  env,
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadAddon', () => {
  it('names this platform as prebuilds/ does: <platform>-<arch>[-<libc>]', () => {
    expect(platformTag()).toMatch(/^linux-(x64|arm64)-(glibc|musl)$/);
    expect(platformTag()).toBe(`linux-${process.arch}-glibc`);
  });

  it('tries a local source build, then the prebuilt; an env override is tried alone', () => {
    expect(addonPaths(spec({ DEMI_FAKE_ADDON: '' }))).toEqual([release, debug, prebuilt]);
    expect(addonPaths(spec({ DEMI_FAKE_ADDON: override }))).toEqual([override]);
    expect(loadAddon<{ from: string }>(spec({ DEMI_FAKE_ADDON: override }))).toEqual({
      from: 'override',
    });
    expect(loadedAddon('fake')).toMatchObject({ path: override, source: 'env' });
  });

  it('throws a DemiError naming the platform, every path tried and why, and the build command', () => {
    let caught: unknown;
    try {
      loadAddon(spec({}));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DemiError);
    const err = caught as DemiError;
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('init');
    const lines = err.message.split('\n');
    expect(lines[0]).toContain(`could not be loaded on ${platformTag()}`);
    // The load failure's own message, whatever the platform calls a bad object file.
    expect(lines[1]?.startsWith(`  ${release} (`)).toBe(true);
    expect(lines[1]).not.toContain('(no such file)');
    expect(lines[2]).toBe(`  ${debug} (no such file)`);
    expect(lines[3]).toBe(`  ${prebuilt} (no such file)`);
    expect(lines[4]).toContain('npx demi-build-addon @demi/fake');
    expect(lines[5]).toBe(hint);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('reports a missing dependency library as that, not as a missing file', () => {
    const dlopen = new Error(
      '/app/node_modules/@demi/catpowder/prebuilds/linux-x64-glibc/demi_catpowder.node: libxdp.so.1: cannot open shared object file: No such file or directory',
    );
    expect(explainLoadError(dlopen)).toBe(
      'needs the system library libxdp.so.1, which is not installed here',
    );
    // glibc's words for a binary of another architecture name the file itself.
    const foreign = new Error(
      '/app/prebuilds/linux-x64-glibc/demi_catnap.node: cannot open shared object file: No such file or directory',
    );
    expect(explainLoadError(foreign)).toMatch(/^not a binary for this platform \(linux-/);
    const old = new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found");
    expect(explainLoadError(old)).toBe("needs GLIBC_2.34, newer than this system's glibc");
  });

  it('uses the code the package asks for', () => {
    expect(() => loadAddon({ ...spec({}), code: 'ENOTSUP', name: 'absent' })).toThrow(
      expect.objectContaining({ code: 'ENOTSUP' }),
    );
  });
});
