import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AF_INET, chooseLibOS, init, register, SOCK_STREAM } from '../src/index.js';
import { MemoryLibOS, MemoryNetwork } from './support/memory-libos.js';

const coreDir = resolve(__dirname, '..');
const require = createRequire(import.meta.url);

/**
 * An application directory holding only @demi/core (built) and the LibOS packages
 * a test names, so "installed" means what it means for a user.
 */
function app(installed: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'demi-registry-'));
  const core = join(dir, 'node_modules/@demi/core');
  mkdirSync(core, { recursive: true });
  cpSync(join(coreDir, 'dist'), join(core, 'dist'), { recursive: true });
  cpSync(join(coreDir, 'package.json'), join(core, 'package.json'));
  for (const dep of ['yaml', 'zod'])
    symlinkSync(dirname(require.resolve(`${dep}/package.json`)), join(dir, 'node_modules', dep));
  for (const name of installed) {
    const pkg = join(dir, 'node_modules/@demi', name);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: `@demi/${name}`,
        type: 'module',
        exports: { '.': './index.js', './package.json': './package.json' },
      }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      `export function createLibOS(ctx) { return { name: '${name}', mtu: ctx.config.inetstack_config?.mtu }; }\n`,
    );
  }
  writeFileSync(
    join(dir, 'main.mjs'),
    `import { init } from '@demi/core';
try { const l = await init(); console.log(JSON.stringify({ ok: l.name, mtu: l.mtu })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }\n`,
  );
  return dir;
}

function run(
  dir: string,
  env: Record<string, string> = {},
): { ok?: string; mtu?: number; code?: string; message?: string } {
  const clean = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  return JSON.parse(
    execFileSync(process.execPath, ['main.mjs'], { cwd: dir, env: clean, encoding: 'utf8' }).trim(),
  );
}

describe('registry in an application', () => {
  beforeAll(() => {
    // The tests load core's build output, as an application would.
    require.resolve(join(coreDir, 'dist/index.js'));
  });

  it('with nothing installed, says what to install', () => {
    const r = run(app([]));
    expect(r.code).toBe('ENOENT');
    expect(r.message).toContain('npm install @demi/catnap');
  });

  it('a known LibOS that is not installed names the package, the command and what is installed', () => {
    const r = run(app(['catnap']), { DEMI_LIBOS: 'catmem' });
    expect(r.code).toBe('ENOENT');
    expect(r.message).toContain("LibOS 'catmem' is not installed");
    expect(r.message).toContain('npm install @demi/catmem');
    expect(r.message).toContain('installed: catnap');
  });

  it('an unknown name lists the known ones', () => {
    const r = run(app(['catnap']), { DEMI_LIBOS: 'catfish' });
    expect(r.code).toBe('EINVAL');
    expect(r.message).toMatch(
      /unknown LibOS "catfish"; known: catnap, catmem, catloop, catpowder, catnip/,
    );
  });

  it('with no variable set: the only installed one, else catnap', () => {
    expect(run(app(['catmem'])).ok).toBe('catmem');
    expect(run(app(['catmem', 'catnap', 'catloop'])).ok).toBe('catnap');
    expect(run(app(['catmem', 'catloop'])).code).toBe('EINVAL');
  });

  it("chooses among the LibOSes the app's package.json names, not their dependencies", () => {
    // catmem installed only because catloop depends on it is not the app's choice.
    const dir = app(['catmem', 'catloop']);
    const manifest = (deps: string[]) =>
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: 'app',
          dependencies: Object.fromEntries(deps.map((d) => [d, '*'])),
        }),
      );
    manifest(['@demi/core', '@demi/catloop']);
    expect(run(dir).ok).toBe('catloop');
    manifest(['@demi/core', '@demi/catloop', '@demi/catmem']);
    const r = run(dir);
    expect(r.code).toBe('EINVAL');
    expect(r.message).toContain('depends on several LibOSes (catmem, catloop)');
    expect(r.message).toContain('DEMI_LIBOS');
  });

  it('one DemiError class and one registry for CommonJS and ES module apps and backends', () => {
    // A backend of each format throws core's DemiError from its loader; the app of
    // the other format catches it: instanceof holds only if both loaded one core.
    const dir = app([]);
    const backend = (name: string, type: 'module' | 'commonjs', body: string) => {
      const pkg = join(dir, 'node_modules/@demi', name);
      mkdirSync(pkg, { recursive: true });
      writeFileSync(
        join(pkg, 'package.json'),
        JSON.stringify({ name: `@demi/${name}`, type, exports: { '.': './index.js' } }),
      );
      writeFileSync(join(pkg, 'index.js'), body);
    };
    backend(
      'catmem',
      'module',
      "import { DemiError } from '@demi/core';\nexport function createLibOS() { throw new DemiError('EPERM', 'esm backend'); }\n",
    );
    backend(
      'catloop',
      'commonjs',
      "const { DemiError } = require('@demi/core');\nexports.createLibOS = () => { throw new DemiError('EPERM', 'cjs backend'); };\n",
    );
    const check = `for (const libos of ['catmem', 'catloop']) {
  try { await init({ libos }); } catch (e) { out.push(e instanceof DemiError); }
}
register('x', () => { throw new DemiError('EPERM', 'x'); });
out.push(registeredNames().includes('x'));
console.log(JSON.stringify(out));`;
    writeFileSync(
      join(dir, 'app.cjs'),
      `const { init, DemiError, register, registeredNames } = require('@demi/core');
const out = [];
(async () => {
${check}
})();\n`,
    );
    writeFileSync(
      join(dir, 'app.mjs'),
      `import { init, DemiError, register, registeredNames } from '@demi/core';
import { createRequire } from 'node:module';
const out = [];
${check}
// The CommonJS entry is the same module: what ESM registered, require() sees.
const cjs = createRequire(import.meta.url)('@demi/core');
console.log(JSON.stringify([cjs.DemiError === DemiError, cjs.registeredNames().includes('x')]));\n`,
    );
    const exec = (file: string) =>
      execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    expect(exec('app.cjs')).toEqual(['[true,true,true]']);
    expect(exec('app.mjs')).toEqual(['[true,true,true]', '[true,true]']);
  });

  it('DEMI_LIBOS beats LIBOS; names are case-insensitive; config reaches the loader', () => {
    const dir = app(['catmem', 'catnap', 'catloop']);
    expect(run(dir, { LIBOS: 'CatMem' }).ok).toBe('catmem');
    expect(run(dir, { DEMI_LIBOS: 'catloop', LIBOS: 'catmem' }).ok).toBe('catloop');
    writeFileSync(join(dir, 'c.yaml'), 'inetstack_config: { mtu: 1400 }\n');
    expect(run(dir, { DEMI_LIBOS: 'catnap', DEMI_CONFIG: join(dir, 'c.yaml') }).mtu).toBe(1400);
    expect(run(dir, { DEMI_LIBOS: 'catnap', DEMI_CONFIG: join(dir, 'nope.yaml') }).code).toBe(
      'ENOENT',
    );
  });

  it('loads the schema and YAML libraries only when there is a config to check', () => {
    // Both cost a process ~20 MiB of RSS; an init() without config must not load them.
    const dir = app(['catnap']);
    writeFileSync(
      join(dir, 'loaded.mjs'),
      `import { createRequire } from 'node:module';
import { init } from '@demi/core';
const lib = (name) => Object.keys(createRequire(import.meta.url).cache)
  .some((path) => path.includes(\`/node_modules/\${name}/\`));
const out = { imported: [lib('zod'), lib('yaml')] };
await init();
out.init = [lib('zod'), lib('yaml')];
try { await init({ config: { catnap: { pop_size: -1 } } }); } catch (e) { out.code = e.code; }
out.checked = [lib('zod'), lib('yaml')];
console.log(JSON.stringify(out));\n`,
    );
    const exec = (env: Record<string, string>) =>
      JSON.parse(
        execFileSync(process.execPath, ['loaded.mjs'], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
          encoding: 'utf8',
        }).trim(),
      );
    expect(exec({})).toEqual({
      imported: [false, false],
      init: [false, false],
      code: 'EINVAL',
      checked: [true, false],
    });
    // An environment variable that may override a key needs the schema; a file needs YAML too.
    expect(exec({ CATNAP_POP_SIZE: '1024' }).init).toEqual([true, false]);
    writeFileSync(join(dir, 'c.yaml'), 'catnap: { pop_size: 1024 }\n');
    expect(exec({ DEMI_CONFIG: join(dir, 'c.yaml') }).init).toEqual([true, true]);
  });
});

describe('registry in process', () => {
  const network = new MemoryNetwork();
  register('memtest', () => new MemoryLibOS(network));

  it('options.libos beats the environment, case-insensitively', () => {
    expect(chooseLibOS({ libos: 'MemTest', env: { DEMI_LIBOS: 'catnap' } })).toBe('memtest');
    expect(chooseLibOS({ env: { DEMI_LIBOS: 'memtest', LIBOS: 'catmem' } })).toBe('memtest');
  });

  it('several LibOSes live side by side in one process, tokens not interchangeable', async () => {
    const a = await init({ libos: 'memtest', env: {} });
    const b = await init({ libos: 'memtest', env: {} });
    expect(a).not.toBe(b);
    const qd = a.socket(AF_INET, SOCK_STREAM);
    a.bind(qd, { address: '127.0.0.1', port: 7001 });
    a.listen(qd, 1);
    const qt = a.accept(qd);
    await expect(b.wait(qt, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await a.shutdown();
    await b.shutdown();
  });

  it('register rejects bad names and loaders', () => {
    expect(() => register('Bad Name', () => new MemoryLibOS(network))).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => register('ok', 42 as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
