// Two network namespaces joined by a veth pair, for tests and benchmarks that
// put a user-level stack against the Linux kernel:
//
//   [dev namespace]  <devIf>  ==veth==  <peerIf>  [peer namespace]
//    no kernel IP,                       ordinary Linux host
//    IPv6 off: the device under test     10.<n>.0.1/24, checksum/segmentation
//    owns the link                       offloads off (full-size, full-checksum frames)
//
// Names are unique per pair (`demi-<id>-dev`, `demi-<id>-peer`, interfaces
// `demi-<id>d`/`demi-<id>p`, <= 15 characters), so parallel test files never
// collide. A state file per pair (/run/demi-netns/<id>.json) records the owning
// process; pairs whose owner died are "stale" and removed by the next
// createPair() or by `node tools/netns/cli.mjs cleanup stale`.
//
// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`), iproute2 and ethtool.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PREFIX = 'demi-';
export const STATE_DIR = process.env.DEMI_NETNS_STATE_DIR ?? '/run/demi-netns';
const NAMESPACE_DIR = '/run/netns';
const ID_CHARS = 6;

/** Why this process cannot build namespaces, or undefined if it can. */
export function missingNetnsSupport() {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0)
    return 'needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create network namespaces)';
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['ethtool', 'ethtool'],
  ]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
      return `needs ${tool}: apt-get install -y ${pkg}`;
    }
  }
  return undefined;
}

function run(cmd, args, { input, allowFail = false } = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input });
  } catch (err) {
    if (allowFail) return undefined;
    const stderr = String(err.stderr ?? '').trim();
    throw new Error(`netns: \`${cmd} ${args.join(' ')}\` failed: ${stderr || err.message}`);
  }
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function readState(id) {
  try {
    return JSON.parse(readFileSync(join(STATE_DIR, `${id}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Namespace names (from `ip netns`) that start with the prefix. */
function listNamespaces(prefix = PREFIX) {
  let names = [];
  try {
    names = readdirSync(NAMESPACE_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix));
}

function idOfNamespace(name) {
  const m = /^demi-([0-9a-z]+)-(dev|peer)$/.exec(name);
  return m?.[1];
}

/**
 * The pairs this harness knows, with whether each is stale (its owner process
 * is gone). `owner: 0` marks a pair kept on purpose (`cli.mjs up --keep`).
 */
export function listPairs() {
  const ids = new Set();
  try {
    for (const f of readdirSync(STATE_DIR)) if (f.endsWith('.json')) ids.add(f.slice(0, -5));
  } catch {}
  for (const ns of listNamespaces()) {
    const id = idOfNamespace(ns);
    if (id !== undefined) ids.add(id);
  }
  return [...ids].map((id) => {
    const state = readState(id);
    const owner = state?.owner;
    return {
      id,
      state,
      owner,
      stale: state === undefined ? undefined : owner !== 0 && !pidAlive(owner),
    };
  });
}

/**
 * Removes pairs whose owner is gone. With `all`, removes every `demi-` namespace
 * and state file, whoever made it (use when nothing else is running).
 * Returns the namespace names removed.
 */
export function cleanupStale({ all = false } = {}) {
  const removed = [];
  for (const pair of listPairs()) {
    if (!(all || pair.stale === true)) continue;
    removed.push(...destroy(pair.id));
  }
  if (all) {
    for (const ns of listNamespaces()) {
      if (run('ip', ['netns', 'del', ns], { allowFail: true }) !== undefined) removed.push(ns);
    }
  }
  return removed;
}

function destroy(id) {
  const removed = [];
  for (const side of ['dev', 'peer']) {
    const ns = `${PREFIX}${id}-${side}`;
    if (
      existsSync(join(NAMESPACE_DIR, ns)) &&
      run('ip', ['netns', 'del', ns], { allowFail: true }) !== undefined
    ) {
      removed.push(ns);
    }
  }
  // A veth left in the root namespace by an interrupted setup.
  for (const ifname of [`${PREFIX}${id}d`, `${PREFIX}${id}p`]) {
    if (existsSync(`/sys/class/net/${ifname}`))
      run('ip', ['link', 'del', ifname], { allowFail: true });
  }
  rmSync(join(STATE_DIR, `${id}.json`), { force: true });
  return removed;
}

const live = new Map();
let exitHooked = false;

function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  // Only 'exit': a JS handler for SIGINT/SIGTERM would make a process busy in
  // synchronous code (a spinning benchmark) ignore the signal. Pairs of a
  // process killed by a signal are stale and go with the next cleanup.
  process.once('exit', () => {
    for (const pair of live.values()) pair.down();
  });
}

function readMac(ns, ifname) {
  const out = run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', ifname]);
  return JSON.parse(out)[0].address;
}

function writeSysctl(ns, path, value) {
  // /proc/sys/net shows the namespace of the process that opens it.
  run('ip', ['netns', 'exec', ns, 'sh', '-c', `[ -e ${path} ] && echo ${value} > ${path} || true`]);
}

/**
 * Creates a namespace pair. Options:
 * - `subnet` (0-255): the n in 10.n.0.0/24; random by default (namespaces have
 *   their own routing tables, so pairs never see each other's addresses).
 * - `devAddress`: also give the dev side a kernel address (10.n.0.2), for
 *   baselines that run kernel sockets on both ends.
 * - `owner`: pid whose death makes the pair stale (default: this process; 0 = never).
 * - `offloads`: leave the peer's checksum/segmentation offloads on (default off).
 */
export function createPair(options = {}) {
  const why = missingNetnsSupport();
  if (why !== undefined) throw new Error(`netns: ${why}`);
  cleanupStale();
  const id = randomBytes(8).readBigUInt64BE().toString(36).slice(-ID_CHARS).padStart(ID_CHARS, '0');
  const n = options.subnet ?? 64 + Math.floor(Math.random() * 190);
  const devNs = `${PREFIX}${id}-dev`;
  const peerNs = `${PREFIX}${id}-peer`;
  const devIf = `${PREFIX}${id}d`;
  const peerIf = `${PREFIX}${id}p`;
  const owner = options.owner ?? process.pid;
  // The state file comes first, so an interrupted setup is still found as stale.
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(
    join(STATE_DIR, `${id}.json`),
    JSON.stringify({
      id,
      owner,
      devNs,
      peerNs,
      devIf,
      peerIf,
      subnet: n,
      created: new Date().toISOString(),
    }),
  );
  let pair;
  try {
    run('ip', ['netns', 'add', devNs]);
    run('ip', ['netns', 'add', peerNs]);
    run('ip', [
      'link',
      'add',
      devIf,
      'netns',
      devNs,
      'type',
      'veth',
      'peer',
      'name',
      peerIf,
      'netns',
      peerNs,
    ]);
    for (const [ns, ifname] of [
      [devNs, devIf],
      [peerNs, peerIf],
    ]) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // No IPv6: no router solicitations or DAD probes in the captured traffic.
      writeSysctl(ns, `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, 1);
    }
    const peerIp = `10.${n}.0.1`;
    const devIp = `10.${n}.0.2`;
    run('ip', ['-n', peerNs, 'addr', 'add', `${peerIp}/24`, 'dev', peerIf]);
    if (options.devAddress) run('ip', ['-n', devNs, 'addr', 'add', `${devIp}/24`, 'dev', devIf]);
    if (!options.offloads) {
      // veth otherwise hands raw sockets frames with partial checksums and
      // 64 KB TSO/GSO super-frames; a real NIC would have finished both.
      run(
        'ip',
        [
          'netns',
          'exec',
          peerNs,
          'ethtool',
          '-K',
          peerIf,
          'tx',
          'off',
          'tso',
          'off',
          'gso',
          'off',
          'gro',
          'off',
        ],
        { allowFail: true },
      );
      run('ip', ['netns', 'exec', devNs, 'ethtool', '-K', devIf, 'gro', 'off', 'lro', 'off'], {
        allowFail: true,
      });
      const features = run('ip', ['netns', 'exec', peerNs, 'ethtool', '-k', peerIf]);
      if (!/^tx-checksumming: off/m.test(features))
        throw new Error(`netns: could not turn tx checksumming off on ${peerIf}`);
    }
    run('ip', ['-n', devNs, 'link', 'set', devIf, 'up']);
    run('ip', ['-n', peerNs, 'link', 'set', peerIf, 'up']);
    pair = makePair({
      id,
      n,
      devNs,
      peerNs,
      devIf,
      peerIf,
      peerIp,
      devIp,
      devMac: readMac(devNs, devIf),
      peerMac: readMac(peerNs, peerIf),
      owner,
    });
  } catch (err) {
    destroy(id);
    throw err;
  }
  writeFileSync(
    join(STATE_DIR, `${id}.json`),
    JSON.stringify({ ...pair.describe(), created: new Date().toISOString() }),
  );
  if (owner === process.pid) {
    live.set(id, pair);
    hookExit();
  }
  return pair;
}

/** A handle on a pair someone else created (e.g. `cli.mjs up`), by id. */
export function openPair(id) {
  const state = readState(id);
  if (state === undefined)
    throw new Error(`netns: no pair ${id} (see: node tools/netns/cli.mjs list)`);
  return makePair({ ...state, n: state.subnet });
}

function makePair(s) {
  const nsOf = (side) => {
    if (side === 'dev') return s.devNs;
    if (side === 'peer') return s.peerNs;
    throw new Error(`netns: side must be 'dev' or 'peer', got ${JSON.stringify(side)}`);
  };
  let down = false;
  return {
    id: s.id,
    subnet: s.n,
    devNs: s.devNs,
    peerNs: s.peerNs,
    devIf: s.devIf,
    peerIf: s.peerIf,
    /** The kernel host's address in the peer namespace. */
    peerIp: s.peerIp,
    /** The address meant for the device under test (the kernel does not own it unless devAddress). */
    devIp: s.devIp,
    prefixLength: 24,
    devMac: s.devMac,
    peerMac: s.peerMac,
    /** ['ip', 'netns', 'exec', ns, ...cmd] for a command in one namespace. */
    argv(side, cmd, args = []) {
      return ['ip', ['netns', 'exec', nsOf(side), cmd, ...args]];
    },
    /** Runs a command to completion in one namespace; returns {status, stdout, stderr}. */
    exec(side, cmd, args = [], options = {}) {
      const r = spawnSync('ip', ['netns', 'exec', nsOf(side), cmd, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        ...options,
      });
      return {
        status: r.status,
        signal: r.signal,
        stdout: r.stdout ?? '',
        stderr: r.stderr ?? '',
        error: r.error,
      };
    },
    /** Starts a command in one namespace (a ChildProcess); the caller ends it. */
    spawn(side, cmd, args = [], options = {}) {
      return spawn('ip', ['netns', 'exec', nsOf(side), cmd, ...args], options);
    },
    describe() {
      const { id, devNs, peerNs, devIf, peerIf, peerIp, devIp, devMac, peerMac, owner } = s;
      return {
        id,
        owner,
        devNs,
        peerNs,
        devIf,
        peerIf,
        subnet: s.n,
        peerIp,
        devIp,
        prefixLength: 24,
        devMac,
        peerMac,
      };
    },
    /** Removes both namespaces (and so the veth). Safe to call twice. */
    down() {
      if (down) return;
      down = true;
      live.delete(s.id);
      destroy(s.id);
    },
  };
}
