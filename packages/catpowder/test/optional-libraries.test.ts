// libxdp and libbpf are optional at run time: the addon links neither, loads
// them only when an AF_XDP device opens, and AF_PACKET works without them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { describe, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';

const addon = fileURLToPath(new URL('../build/Release/demi_catpowder.node', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/without-xdp-libs.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
// As on a host without the libraries: the loader is pointed at paths that do not exist.
const withoutLibs = {
  ...process.env,
  DEMI_CATPOWDER_LIBXDP: '/nonexistent/libxdp.so.1',
  DEMI_CATPOWDER_LIBBPF: '/nonexistent/libbpf.so.1',
};

function runWithoutLibs(args: string[], env: NodeJS.ProcessEnv = withoutLibs): Record<string, any> {
  const r = spawnSync(process.execPath, [tsx, fixture, ...args], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  expect(r.status, out).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('optional system libraries (no privileges needed)', () => {
  it('the addon needs neither libxdp nor libbpf to load', () => {
    expect(existsSync(addon), `${addon} (build the addon first)`).toBe(true);
    const r = spawnSync('readelf', ['--dynamic', addon], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const needed = [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
      (m) => m[1],
    );
    expect(needed).toContain('libc.so.6');
    expect(needed.filter((n) => /libxdp|libbpf/.test(n!))).toEqual([]);
  });

  it('AF_XDP without libxdp is ENOTSUP naming the library and how to install it', () => {
    // libbpf is found as usual; libxdp is not.
    const out = runWithoutLibs([], {
      ...process.env,
      DEMI_CATPOWDER_LIBXDP: '/nonexistent/libxdp.so.1',
    });
    expect(out.features.afXdp).toBe(false);
    expect(out.xdpError).toMatchObject({ demiError: true, code: 'ENOTSUP' });
    // Built with the headers, the missing library is named; built without, the headers are.
    const reason = /headers/.test(out.features.afXdpUnavailable)
      ? /libxdp-dev libbpf-dev/
      : /libxdp\.so\.1.*\/nonexistent\/libxdp\.so\.1.*apt-get install -y libxdp1 libbpf1/s;
    expect(out.features.afXdpUnavailable).toMatch(reason);
    expect(out.xdpError.message).toMatch(reason);
    expect(out.loadedLibxdp).toBe(false);
  });
});

describePrivileged('AF_PACKET on a host without libxdp', missingNetnsSupport, () => {
  const net = useNetnsPair();

  it('opens, sends and receives, and never loads libxdp or libbpf', () => {
    const { pair } = net;
    const out = runWithoutLibs([pair.devNs, pair.devIf, pair.devIp, pair.peerIp]);
    expect(out.arpReply).toBe(pair.peerIp);
    expect(out.loadedLibxdp).toBe(false);
    expect(out.loadedLibbpf).toBe(false);
  });
});
