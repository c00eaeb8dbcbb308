#!/usr/bin/env node
// The namespace harness from a shell:
//   node tools/netns/cli.mjs up [--dev-address] [--keep] [--subnet N] [--offloads]
//        prints the pair as JSON; it stays until `down` (or, without --keep,
//        until the shell that ran `up` exits and a later cleanup finds it stale)
//   node tools/netns/cli.mjs down <id>
//   node tools/netns/cli.mjs exec <id> dev|peer -- <command> [args...]
//   node tools/netns/cli.mjs list
//   node tools/netns/cli.mjs cleanup stale [--all]
import { spawnSync } from 'node:child_process';
import { cleanupStale, createPair, listPairs, openPair } from './index.mjs';

const USAGE = `usage:
  node tools/netns/cli.mjs up [--dev-address] [--keep] [--subnet N] [--offloads]
  node tools/netns/cli.mjs down <id>
  node tools/netns/cli.mjs exec <id> dev|peer -- <command> [args...]
  node tools/netns/cli.mjs list
  node tools/netns/cli.mjs cleanup stale [--all]`;

function fail(message) {
  console.error(message);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'up': {
      const subnetAt = rest.indexOf('--subnet');
      const subnet = subnetAt >= 0 ? Number(rest[subnetAt + 1]) : undefined;
      if (subnet !== undefined && !(Number.isInteger(subnet) && subnet >= 0 && subnet <= 255))
        fail('--subnet takes 0-255');
      const pair = createPair({
        subnet,
        devAddress: rest.includes('--dev-address'),
        offloads: rest.includes('--offloads'),
        // The calling shell owns it: once that shell is gone the pair is stale.
        owner: rest.includes('--keep') ? 0 : process.ppid,
      });
      console.log(JSON.stringify(pair.describe(), null, 2));
      break;
    }
    case 'down': {
      if (rest[0] === undefined) fail(USAGE);
      openPair(rest[0]).down();
      break;
    }
    case 'exec': {
      const [id, side, dashes, cmd, ...args] = rest;
      if (
        id === undefined ||
        (side !== 'dev' && side !== 'peer') ||
        dashes !== '--' ||
        cmd === undefined
      )
        fail(USAGE);
      const [bin, argv] = openPair(id).argv(side, cmd, args);
      const r = spawnSync(bin, argv, { stdio: 'inherit' });
      process.exit(r.status ?? 1);
      break;
    }
    case 'list': {
      for (const p of listPairs()) {
        const s = p.state;
        const what = s
          ? `${s.devNs}(${s.devIf}) <-> ${s.peerNs}(${s.peerIf} ${s.peerIp})`
          : '(no state file)';
        console.log(`${p.id}  owner=${p.owner ?? '?'}${p.stale ? ' STALE' : ''}  ${what}`);
      }
      break;
    }
    case 'cleanup': {
      if (rest[0] !== 'stale') fail(USAGE);
      const removed = cleanupStale({ all: rest.includes('--all') });
      console.log(removed.length > 0 ? `removed: ${removed.join(' ')}` : 'nothing stale');
      break;
    }
    default:
      fail(USAGE);
  }
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
