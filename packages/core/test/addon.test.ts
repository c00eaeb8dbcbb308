import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPaths, DemiError, loadAddon } from '../src/index.js';

// A package laid out as the backends are: src/ beside build/Release, whose .node is not a real addon.
const root = mkdtempSync(join(tmpdir(), 'demi-addon-'));
mkdirSync(join(root, 'src'));
mkdirSync(join(root, 'build', 'Release'), { recursive: true });
const release = join(root, 'build', 'Release', 'demi_fake.node');
const debug = join(root, 'build', 'Debug', 'demi_fake.node');
writeFileSync(release, 'not an ELF object');
const override = join(root, 'override.cjs');
writeFileSync(override, "module.exports = { from: 'override' };");
const fromUrl = pathToFileURL(join(root, 'src', 'native.js')).href;
const hint = 'Build it with `npm run build`.';
const spec = (env: NodeJS.ProcessEnv) => ({
  name: 'fake',
  fromUrl,
  envVar: 'DEMI_FAKE_ADDON',
  buildHint: hint,
  env,
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadAddon', () => {
  it('tries the env override first, then build/Release and build/Debug', () => {
    expect(addonPaths(spec({ DEMI_FAKE_ADDON: override }))).toEqual([override, release, debug]);
    expect(addonPaths(spec({ DEMI_FAKE_ADDON: '' }))).toEqual([release, debug]);
    // The broken Release build is never touched when the override loads.
    expect(loadAddon<{ from: string }>(spec({ DEMI_FAKE_ADDON: override }))).toEqual({
      from: 'override',
    });
  });

  it('throws a DemiError listing every path tried, why each failed, and the build hint', () => {
    const missing = join(root, 'nowhere.node');
    let caught: unknown;
    try {
      loadAddon(spec({ DEMI_FAKE_ADDON: missing }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DemiError);
    const err = caught as DemiError;
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('init');
    const lines = err.message.split('\n');
    expect(lines[1]).toBe(`  ${missing} (missing)`);
    // The load failure's own message, whatever the platform calls a bad object file.
    expect(lines[2]?.startsWith(`  ${release} (`)).toBe(true);
    expect(lines[2]).not.toContain('(missing)');
    expect(lines[3]).toBe(`  ${debug} (missing)`);
    expect(lines[4]).toBe(hint);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('uses the code the package asks for', () => {
    expect(() => loadAddon({ ...spec({}), code: 'ENOTSUP', name: 'absent' })).toThrow(
      expect.objectContaining({ code: 'ENOTSUP' }),
    );
  });
});
