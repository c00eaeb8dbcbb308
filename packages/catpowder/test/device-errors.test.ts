// Every way opening or using a device can go wrong gives a DemiError that says
// what to do, never a crash.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DemiError } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { describe, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { features, optionsFromConfig, RawDevice } from '../src/index.js';

function openError(options: ConstructorParameters<typeof RawDevice>[0]): DemiError {
  try {
    new RawDevice(options).close();
  } catch (err) {
    expect(err).toBeInstanceOf(DemiError);
    return err as DemiError;
  }
  throw new Error('opening succeeded');
}

describe('device options (no privileges needed)', () => {
  it('rejects bad options with EINVAL naming the option', () => {
    expect(openError({}).message).toMatch(/raw_socket\.interface_name/);
    expect(openError({ interfaceName: 'x'.repeat(16) }).code).toBe('EINVAL');
    expect(openError({ interfaceName: 'eth0', mode: 'dpdk' as 'af_packet' }).message).toMatch(
      /mode/,
    );
    expect(openError({ interfaceName: 'eth0', xdpMode: 'fast' as 'skb' }).message).toMatch(
      /xdpMode/,
    );
    expect(openError({ interfaceName: 'eth0', batchSize: 0 }).message).toMatch(/batchSize/);
    expect(openError({ interfaceName: 'eth0', batchSize: 1.5 }).code).toBe('EINVAL');
    expect(openError({ interfaceName: 'eth0', queue: 64 }).message).toMatch(/queue/);
    expect(openError({ interfaceName: 'eth0', netns: '../etc' }).message).toMatch(/netns/);
    expect(
      openError({ interfaceName: 'eth0', checksumOffload: 'yes' as unknown as boolean }).message,
    ).toMatch(/checksumOffload/);
    expect(openError(null as unknown as object).code).toBe('EINVAL');
  });

  it('reads the interface and mode from the config', () => {
    expect(
      optionsFromConfig({
        raw_socket: { interface_name: 'veth1', mode: 'af_xdp', xdp_mode: 'native' },
      }),
    ).toMatchObject({
      interfaceName: 'veth1',
      mode: 'af_xdp',
      xdpMode: 'native',
      checksumOffload: true,
      promiscuous: false,
    });
    expect(optionsFromConfig({ raw_socket: { linux_interface_name: 'eth2' } }).interfaceName).toBe(
      'eth2',
    );
    expect(optionsFromConfig({ raw_socket: { xdp_interface_index: 3 } }).interfaceIndex).toBe(3);
    expect(
      optionsFromConfig({ inetstack_config: { tcp_checksum_offload: false } }).checksumOffload,
    ).toBe(false);
    expect(
      optionsFromConfig({ demikernel: { local_link_addr: '02:00:00:00:00:01' } }).promiscuous,
    ).toBe(true);
  });

  it('says whether AF_XDP is built in, and how to get it if not', () => {
    const f = features();
    expect(typeof f.afXdp).toBe('boolean');
    if (!f.afXdp) expect(f.afXdpUnavailable).toMatch(/libxdp/);
  });
});

describePrivileged('device errors against real interfaces', missingNetnsSupport, () => {
  const net = useNetnsPair();

  it('a missing interface is ENODEV and says how to list them', () => {
    const err = openError({ interfaceName: 'demi-nothere', netns: net.pair.devNs });
    expect(err.code).toBe('ENODEV');
    expect(err.message).toMatch(/ip link show/);
    expect(openError({ interfaceIndex: 99999, netns: net.pair.devNs }).code).toBe('ENODEV');
  });

  it('a missing namespace is ENOENT and says how to list them', () => {
    const err = openError({ interfaceName: net.pair.devIf, netns: 'demi-no-such-namespace' });
    expect(err.code).toBe('ENOENT');
    expect(err.message).toMatch(/ip netns list/);
  });

  it('an interface that is down is ENETDOWN with the command that fixes it', () => {
    const { pair } = net;
    pair.exec('dev', 'ip', ['link', 'set', pair.devIf, 'down']);
    try {
      const err = openError({ interfaceName: pair.devIf, netns: pair.devNs });
      expect(err.code).toBe('ENETDOWN');
      expect(err.message).toMatch(/ip link set .* up/);
    } finally {
      pair.exec('dev', 'ip', ['link', 'set', pair.devIf, 'up']);
    }
  });

  it('a non-Ethernet interface is EINVAL', () => {
    const err = openError({ interfaceName: 'lo', netns: net.pair.devNs });
    expect(err.code).toBe('EINVAL');
    expect(err.message).toMatch(/Ethernet/);
  });

  it('without CAP_NET_RAW opening is EPERM and names the fix', () => {
    const { pair } = net;
    const script = fileURLToPath(new URL('./fixtures/open-device.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    // Root without CAP_NET_RAW: drop it from the bounding set before exec.
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        pair.devNs,
        'setpriv',
        '--bounding-set',
        '-net_raw',
        '--inh-caps',
        '-all',
        process.execPath,
        tsx,
        script,
        pair.devIf,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(out.code).toBe('EPERM');
    expect(out.message).toMatch(/CAP_NET_RAW/);
    expect(out.message).toMatch(/setcap cap_net_raw\+ep/);
  });

  it('a closed device is EBADF; close twice is harmless', () => {
    const { pair } = net;
    const device = new RawDevice({ interfaceName: pair.devIf, netns: pair.devNs });
    device.close();
    device.close();
    expect(() => device.receive(() => {})).toThrow(/EBADF/);
    expect(() => device.send(new Uint8Array(60))).toThrow(/EBADF/);
    expect(() => device.flush()).toThrow(/EBADF/);
    expect(() => device.setWakeup(() => {})).toThrow(/EBADF/);
    device.setWakeup(undefined);
  });

  if (features().afXdp) {
    it('AF_XDP on an interface that already has an XDP program is refused with the fix', () => {
      const { pair } = net;
      const first = new RawDevice({ interfaceName: pair.devIf, netns: pair.devNs, mode: 'af_xdp' });
      try {
        const err = openError({ interfaceName: pair.devIf, netns: pair.devNs, mode: 'af_xdp' });
        expect(['EBUSY', 'EEXIST']).toContain(err.code);
        expect(err.message).toMatch(/xdp off/);
      } finally {
        first.close();
      }
      // Closing detached the program: a new one attaches.
      new RawDevice({ interfaceName: pair.devIf, netns: pair.devNs, mode: 'af_xdp' }).close();
    });
  }
});
