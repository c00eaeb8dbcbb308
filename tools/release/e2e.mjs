#!/usr/bin/env node
// The release, proven as a user meets it: a private verdaccio registry on
// 127.0.0.1 (no uplinks, storage in a temp dir), every package published by
// `npm run release`'s script, then for each backend a fresh app outside the
// repository installs @demi/core and the backend from that registry only and
// runs its echo as an ES module and as CommonJS (PATH holding nothing but node:
// no compiler or cmake could build anything), asks `demi doctor` which binary
// loaded, and type-checks a strict TypeScript consumer. Then a changeset bumps
// catnap alone; the release runs again and only catnap gets a new version.
// Prints 'N passed, N failed'; exits non-zero on any failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consumerTs, ECHO_CJS, ECHO_MJS, RAW_ECHO_MJS, TSCONFIG } from './apps.mjs';
import { Checklist } from './checklist.mjs';

const root = new URL('../..', import.meta.url).pathname;
const BACKENDS = ['catnap', 'catmem', 'catloop', 'catpowder', 'catnip'];
const work = mkdtempSync(join(tmpdir(), 'demi-e2e-'));
const deadline = Date.now() + Number(process.env.DEMI_E2E_TIMEOUT_MS ?? 40 * 60_000);
const checks = new Checklist();
const check = (title, fn) => checks.check(title, fn);

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function remaining() {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new Error('the registry round trip ran out of time');
  return ms;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRegistry() {
  const port = await freePort();
  const config = join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(work, 'storage')}`,
      'auth:',
      `  htpasswd: { file: ${join(work, 'htpasswd')}, max_users: 10 }`,
      'uplinks: {}',
      'packages:',
      "  '**': { access: $all, publish: $authenticated, unpublish: $authenticated }",
      'max_body_size: 500mb',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = join(root, 'node_modules/verdaccio/bin/verdaccio');
  const child = spawn(
    process.execPath,
    [bin, '--config', config, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 60_000; ; ) {
    try {
      if ((await fetch(`${url}/-/ping`)).ok) break;
    } catch {}
    if (Date.now() > end || child.exitCode !== null)
      throw new Error(`verdaccio did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A user for publishing: verdaccio's htpasswd plugin creates it on first login.
  const res = await fetch(`${url}/-/user/org.couchdb.user:demi`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'demi', password: 'demi-e2e-only', email: 'e2e@localhost' }),
  });
  const { token } = await res.json();
  assert(token, `verdaccio gave no token (${res.status})`);
  const npmrc = join(work, 'npmrc');
  writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { child, url, npmrc, token };
}

function npmEnv(registry) {
  return {
    ...process.env,
    npm_config_userconfig: registry.npmrc,
    npm_config_registry: `${registry.url}/`,
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/**
 * The registry has no uplinks, so the packages ours depend on (yaml, zod, cmake-js and
 * their dependencies) are published into it first: the versions package-lock.json pins,
 * packed from npm's usual registry.
 */
function thirdPartyClosure() {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;
  const found = new Map();
  const visit = (name, from) => {
    for (let dir = from; ; ) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      const entry = lock[key];
      if (entry !== undefined) {
        if (entry.link || found.has(`${name}@${entry.version}`)) return;
        found.set(`${name}@${entry.version}`, { name, version: entry.version, path: key });
        for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep, key);
        return;
      }
      if (dir === '')
        throw new Error(`${name} (needed by ${from || 'the root'}) is not in package-lock.json`);
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const m = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    for (const dep of Object.keys(m.dependencies ?? {}))
      if (!dep.startsWith('@demi/')) visit(dep, '');
  }
  return [...found.values()];
}

/** Publishes a tarball with the registry's HTTP API, as npm publish does, minus npm's start-up. */
async function putTarball(registry, file) {
  const data = readFileSync(file);
  const manifest = JSON.parse(
    execFileSync('tar', ['xzOf', file, 'package/package.json'], { encoding: 'utf8' }),
  );
  const { name, version } = manifest;
  const tarballName = `${name}-${version}.tgz`;
  const body = {
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: {
          shasum: createHash('sha1').update(data).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
          tarball: `${registry.url}/${name}/-/${tarballName}`,
        },
      },
    },
    _attachments: {
      [tarballName]: {
        content_type: 'application/octet-stream',
        data: data.toString('base64'),
        length: data.length,
      },
    },
  };
  // A loaded machine can drop a connection: a few tries, each a fresh one.
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${registry.url}/${name.replace('/', '%2f')}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${registry.token}` },
        body: JSON.stringify(body),
      });
      assert(res.ok, `seeding ${name}@${version}: ${res.status} ${await res.text()}`);
      return;
    } catch (err) {
      if (attempt === 3)
        throw new Error(`seeding ${name}@${version}: ${err.cause?.message ?? err.message}`);
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

async function seedRegistry(registry) {
  const seed = join(work, 'seed');
  mkdirSync(seed);
  const specs = thirdPartyClosure();
  // Packed from the copies npm installed here (the lockfile's versions, exactly the files
  // their tarballs hold), offline and without npm's start-up per package.
  const packed = specs.map((spec) => {
    const filename = `${spec.name.replace('/', '-')}-${spec.version}.tgz`;
    execFileSync('tar', [
      'czf',
      join(seed, filename),
      '-C',
      join(root, spec.path),
      '--exclude=./node_modules',
      '--transform',
      's,^\\.,package,',
      '.',
    ]);
    return { filename };
  });
  for (const p of packed) await putTarball(registry, join(seed, p.filename));
  return packed.length;
}

function release(registry, extra = []) {
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'tools/release/release.mjs'),
      '--out',
      join(work, `tarballs-${Date.now()}`),
      ...extra,
    ],
    { cwd: root, env: npmEnv(registry), encoding: 'utf8', timeout: remaining() },
  );
  const out = `${r.stdout}${r.stderr}`;
  assert(r.status === 0, `release failed (status ${r.status}):\n${out.slice(-6000)}`);
  return out;
}

function versions(registry, name) {
  const r = spawnSync('npm', ['view', name, 'versions', '--json'], {
    env: npmEnv(registry),
    encoding: 'utf8',
  });
  assert(r.status === 0, `npm view ${name}: ${r.stderr}`);
  return [JSON.parse(r.stdout)].flat();
}

/** A directory whose only program is node: whatever runs with it as PATH builds nothing. */
function nodeOnlyPath() {
  const dir = join(work, 'node-only-bin');
  mkdirSync(dir, { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

function installApp(registry, backend, specs) {
  const dir = join(work, `app-${backend}-${Date.now()}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `app-${backend}`, private: true }),
  );
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...specs], {
    cwd: dir,
    env: npmEnv(registry),
    encoding: 'utf8',
    timeout: remaining(),
  });
  assert(r.status === 0, `npm install ${specs.join(' ')}:\n${r.stdout}${r.stderr}`);
  return dir;
}

function runApp(dir, file, binDir, env = {}) {
  const r = spawnSync(process.execPath, [file], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: binDir, HOME: work, ...env },
  });
  assert(r.status === 0, `node ${file} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function doctor(dir, binDir) {
  const r = spawnSync(join(dir, 'node_modules/.bin/demi'), ['doctor', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: binDir, HOME: work },
  });
  return { status: r.status, reports: JSON.parse(r.stdout || '[]'), stderr: r.stderr };
}

function isRoot() {
  return process.getuid?.() === 0;
}

async function rawEcho(dir, binDir) {
  const { createPair, missingNetnsSupport } = await import('../netns/index.mjs');
  const missing = missingNetnsSupport();
  assert(missing === undefined, `needs network namespaces: ${missing}`);
  writeFileSync(join(dir, 'raw-echo.mjs'), RAW_ECHO_MJS);
  const pair = createPair();
  try {
    const child = spawn('ip', ['netns', 'exec', pair.devNs, process.execPath, 'raw-echo.mjs'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${binDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
        HOME: work,
        DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp,
        RAW_SOCKET_INTERFACE_NAME: pair.devIf,
        RAW_SOCKET_MODE: 'af_packet',
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      for (const end = Date.now() + 30_000; !out.includes('ready') && Date.now() < end; ) {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert(out.includes('ready catpowder'), `the AF_PACKET echo did not start:\n${out}${err}`);
      const text = 'through an installed tarball';
      const client = pair.exec('peer', 'socat', ['-t', '5', '-', `TCP4:${pair.devIp}:7777`], {
        input: text,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert(client.stdout === text, `socat got ${JSON.stringify(client.stdout)} ${client.stderr}`);
      assert((await exited) === 0, `the echo server failed:\n${err}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  } finally {
    pair.down();
  }
}

/** The server example of the root README, run with a connection open, then SIGINT. */
async function readmeServer(dir) {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## The API')))?.[1];
  assert(code !== undefined, 'no server example in README.md');
  const port = await freePort();
  writeFileSync(join(dir, 'readme-server.mjs'), code.replace('port: 7000', `port: ${port}`));
  const child = spawn(process.execPath, ['readme-server.mjs'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    let sock;
    for (const end = Date.now() + 20_000; sock === undefined; ) {
      sock = await new Promise((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      assert(sock !== undefined || Date.now() < end, `the example never listened: ${err}`);
      if (sock === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    sock.write('open');
    const echoed = await new Promise((resolve) => sock.once('data', (d) => resolve(String(d))));
    assert(echoed === 'open', `echoed ${echoed}`);
    child.kill('SIGINT');
    const code = await Promise.race([
      new Promise((resolve) => child.once('exit', resolve)),
      new Promise((resolve) => setTimeout(() => resolve('no exit within 15 s'), 15_000)),
    ]);
    sock.destroy();
    assert(code === 0 && err === '', `exit ${code}: ${err}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Bumps catnap with a changeset in a copy of the manifests; returns the copy's packages/ dir. */
function bumpCatnap() {
  const copy = join(work, 'bump');
  mkdirSync(join(copy, '.changeset'), { recursive: true });
  cpSync(join(root, '.changeset/config.json'), join(copy, '.changeset/config.json'));
  writeFileSync(
    join(copy, '.changeset/catnap-fix.md'),
    '---\n"@demi/catnap": patch\n---\n\nA fix in catnap alone.\n',
  );
  writeFileSync(
    join(copy, 'package.json'),
    JSON.stringify({ name: 'demi', private: true, workspaces: ['packages/*'] }),
  );
  // A lockfile tells changesets' workspace finder that npm manages this tree.
  writeFileSync(
    join(copy, 'package-lock.json'),
    JSON.stringify({ name: 'demi', lockfileVersion: 3, requires: true, packages: {} }),
  );
  for (const pkg of readdirSync(join(root, 'packages'))) {
    mkdirSync(join(copy, 'packages', pkg), { recursive: true });
    for (const f of ['package.json', 'CHANGELOG.md'])
      cpSync(join(root, 'packages', pkg, f), join(copy, 'packages', pkg, f));
  }
  // The changelog generator named in config.json resolves from here.
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  execFileSync('git', ['init', '-q'], { cwd: copy });
  execFileSync(join(root, 'node_modules/.bin/changeset'), ['version'], {
    cwd: copy,
    stdio: 'inherit',
  });
  return join(copy, 'packages');
}

async function main() {
  console.log(`registry round trip in ${work}`);
  const registry = await startRegistry();
  try {
    const binDir = nodeOnlyPath();
    await seedRegistry(registry).then(
      (n) =>
        check(`the private registry holds the ${n} third-party packages ours depend on`, () => {}),
      (err) =>
        check('the private registry holds the third-party packages ours depend on', () => {
          throw err;
        }),
    );
    let releaseLog = '';
    check('npm run release builds, checks and publishes every package', () => {
      releaseLog = release(registry);
      for (const pkg of ['core', 'inetstack', 'native', ...BACKENDS])
        assert(versions(registry, `@demi/${pkg}`).includes('0.1.0'), `@demi/${pkg} not published`);
    });
    if (releaseLog === '') return;
    const before = Object.fromEntries(
      readdirSync(join(root, 'packages')).map((p) => {
        const m = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8'));
        return [m.name, m.version];
      }),
    );

    const consumers = [];
    for (const backend of BACKENDS) {
      let dir;
      check(`${backend}: npm install @demi/core @demi/${backend} from the registry`, () => {
        dir = installApp(registry, backend, ['@demi/core', `@demi/${backend}`]);
        const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
        const cores = Object.keys(lock.packages).filter((p) =>
          p.endsWith('node_modules/@demi/core'),
        );
        assert(cores.length === 1, `expected one @demi/core, found ${cores.join(', ')}`);
      });
      if (dir === undefined) continue;
      check(`${backend}: demi doctor finds the prebuilt binary for this platform`, () => {
        const { reports, stderr } = doctor(dir, binDir);
        const me = reports.find((r) => r.name === backend);
        assert(me, `doctor did not list ${backend}: ${stderr}`);
        assert(
          me.binary?.source === 'prebuilt',
          `loaded ${JSON.stringify(me.binary ?? me.loadError)}`,
        );
        assert(me.binary.platform === `linux-${process.arch}-glibc`, me.binary.platform);
      });
      if (backend !== 'catpowder' && backend !== 'catnip') {
        const env = backend === 'catmem' ? { DEMI_E2E_PIPES: '1' } : {};
        writeFileSync(join(dir, 'echo.mjs'), ECHO_MJS);
        writeFileSync(join(dir, 'echo.cjs'), ECHO_CJS);
        for (const file of ['echo.mjs', 'echo.cjs']) {
          check(`${backend}: ${file} echoes through init() with only node on PATH`, () => {
            const r = runApp(dir, file, binDir, env);
            const format = file.endsWith('.mjs') ? 'esm' : 'cjs';
            assert(r.libos === backend, `init() chose ${r.libos}`);
            assert(r.echoed === `hello from ${format}`, `echoed ${JSON.stringify(r.echoed)}`);
            assert(r.sameClass === true, "a backend error is not the app's DemiError");
          });
        }
      }
      if (backend === 'catnap') {
        const title = 'catnap: the README server example shuts down cleanly with a connection open';
        await readmeServer(dir).then(
          () => check(title, () => {}),
          (err) =>
            check(title, () => {
              throw err;
            }),
        );
      }
      if (backend === 'catpowder' && !isRoot()) {
        // Raw sockets need root: a skip that says so, a failure where CI requires privileges.
        if (process.env.DEMI_REQUIRE_PRIVILEGED === '1') checks.failed++;
        console.log('  skip catpowder: AF_PACKET echo needs root (CAP_NET_RAW)');
      }
      if (backend === 'catpowder' && isRoot()) {
        await rawEcho(dir, binDir).then(
          () => check('catpowder: AF_PACKET echo to a kernel client, only node on PATH', () => {}),
          (err) =>
            check('catpowder: AF_PACKET echo to a kernel client, only node on PATH', () => {
              throw err;
            }),
        );
      }
      writeFileSync(join(dir, 'consumer.mts'), consumerTs(backend));
      consumers.push(join(dir, 'consumer.mts'));
    }

    // One compiler run for every app (each file resolves from its own node_modules).
    check(`a strict TypeScript consumer of each backend type-checks (${consumers.length})`, () => {
      writeFileSync(
        join(work, 'tsconfig.json'),
        TSCONFIG(join(root, 'node_modules/@types'), consumers),
      );
      const r = spawnSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', work],
        {
          cwd: work,
          encoding: 'utf8',
          timeout: remaining(),
        },
      );
      assert(r.status === 0, `tsc:\n${r.stdout}${r.stderr}`);
    });

    check('a changeset bumping catnap releases only catnap', () => {
      const manifests = bumpCatnap();
      const bumped = JSON.parse(
        readFileSync(join(manifests, 'catnap/package.json'), 'utf8'),
      ).version;
      assert(bumped === '0.1.1', `changeset version gave catnap ${bumped}`);
      const log = release(registry, ['--manifests-from', manifests]);
      assert(
        /published @demi\/catnap@0\.1\.1/.test(log),
        `catnap 0.1.1 not published:\n${log.slice(-3000)}`,
      );
      for (const [name, version] of Object.entries(before)) {
        const list = versions(registry, name);
        if (name === '@demi/catnap') assert(list.join() === '0.1.0,0.1.1', `${name}: ${list}`);
        else assert(list.join() === version, `${name} moved: ${list}`);
      }
      const dir = installApp(registry, 'catnap-bumped', ['@demi/core', '@demi/catnap@0.1.1']);
      writeFileSync(join(dir, 'echo.mjs'), ECHO_MJS);
      const r = runApp(dir, 'echo.mjs', binDir);
      assert(r.echoed === 'hello from esm', JSON.stringify(r));
    });
  } finally {
    registry.child.kill('SIGTERM');
    await new Promise((r) =>
      registry.child.exitCode !== null ? r() : registry.child.on('exit', r),
    );
    rmSync(work, { recursive: true, force: true });
  }
}

await main().catch((err) => {
  checks.failed++;
  console.log(`  FAIL ${err.stack ?? err}`);
});
checks.finish();
