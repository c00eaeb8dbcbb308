import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SECTIONS, configEnvNames, configSchema, loadConfig } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'demi-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const DEMIKERNEL_STYLE = `
demikernel:
  local_ipv4_addr: 10.0.0.2
  local_link_addr: "02:00:00:00:00:02"
raw_socket:
  linux_interface_name: veth-demi
dpdk:
  eal_init: ["", "--no-huge", "--no-pci"]
tcp_socket_options:
  keepalive: { enabled: true, time_millis: 1000, interval: 100 }
  linger: { enabled: false, time_seconds: 0 }
  nodelay: true
inetstack_config:
  mtu: 1500
  mss: 1460
  arp_table:
    "02:00:00:00:00:01": 10.0.0.1
  arp_request_retries: 2
  arp_request_timeout: 100
  arp_cache_ttl: 15
  udp_checksum_offload: false
  tcp_checksum_offload: false
`;

describe('config', () => {
  it('parses a Demikernel-style YAML file', () => {
    const { config, source } = loadConfig(file('ok.yaml', DEMIKERNEL_STYLE), {});
    expect(source).toMatch(/ok\.yaml$/);
    expect(config.demikernel?.local_ipv4_addr).toBe('10.0.0.2');
    expect(config.inetstack_config?.arp_table).toEqual({ '02:00:00:00:00:01': '10.0.0.1' });
    expect(config.dpdk?.eal_init).toEqual(['', '--no-huge', '--no-pci']);
    expect(config.tcp_socket_options?.keepalive?.enabled).toBe(true);
  });

  it('knows the device keys catpowder and catnip read', () => {
    const { config } = loadConfig(
      {
        raw_socket: { netns: 'demi-a' },
        dpdk: { vdevs: ['net_memif0,role=server'], netns: 'demi-b' },
      },
      {},
    );
    expect(config.raw_socket?.netns).toBe('demi-a');
    expect(config.dpdk?.vdevs).toEqual(['net_memif0,role=server']);
    expect(() => loadConfig({ dpdk: { netns: 'a/b' } }, {})).toThrow(/dpdk\.netns/);
  });

  it('takes options, then DEMI_CONFIG, then CONFIG_PATH', () => {
    const a = file('a.yaml', 'inetstack_config: { mtu: 1400 }');
    const b = file('b.yaml', 'inetstack_config: { mtu: 1300 }');
    expect(
      loadConfig(undefined, { DEMI_CONFIG: a, CONFIG_PATH: b }).config.inetstack_config?.mtu,
    ).toBe(1400);
    expect(loadConfig(undefined, { CONFIG_PATH: b }).config.inetstack_config?.mtu).toBe(1300);
    expect(loadConfig(b, { DEMI_CONFIG: a }).config.inetstack_config?.mtu).toBe(1300);
    expect(loadConfig({ inetstack_config: { mtu: 1200 } }, {}).config.inetstack_config?.mtu).toBe(
      1200,
    );
    expect(loadConfig(undefined, {}).config).toEqual({});
  });

  it('upper-case environment variables override scalar keys, typed', () => {
    const path = file('env.yaml', DEMIKERNEL_STYLE);
    const { config } = loadConfig(path, {
      INETSTACK_CONFIG_MTU: '9000',
      TCP_SOCKET_OPTIONS_NODELAY: 'false',
      RAW_SOCKET_INTERFACE_NAME: 'eth9',
    });
    expect(config.inetstack_config?.mtu).toBe(9000);
    expect(config.tcp_socket_options?.nodelay).toBe(false);
    expect(config.raw_socket?.interface_name).toBe('eth9');
    expect(configEnvNames()).toContain('DEMIKERNEL_LOCAL_IPV4_ADDR');
  });

  it('a bad key names the file, the key and what was expected', () => {
    const path = file(
      'bad.yaml',
      'demikernel:\n  local_ipv4_addr: 300.1.1.1\ninetstack_config:\n  mtuu: 1500\n',
    );
    expect(() => loadConfig(path, {})).toThrow(
      /bad\.yaml[\s\S]*demikernel\.local_ipv4_addr: a dotted IPv4 address[\s\S]*inetstack_config\.mtuu/,
    );
    try {
      loadConfig(path, {});
    } catch (err) {
      expect(err).toMatchObject({ code: 'EINVAL' });
    }
  });

  it('a wrong type or an unparsable environment value is an error too', () => {
    expect(() => loadConfig({ inetstack_config: { mtu: 'big' } } as never, {})).toThrow(
      /inetstack_config\.mtu/,
    );
    expect(() => loadConfig(undefined, { INETSTACK_CONFIG_MTU: 'lots' })).toThrow(
      /inetstack_config\.mtu/,
    );
  });

  it('a missing file is ENOENT and invalid YAML is EINVAL, both naming the file', () => {
    expect(() => loadConfig(join(dir, 'absent.yaml'), {})).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('absent.yaml') }),
    );
    expect(() => loadConfig(file('broken.yaml', 'a: [1, 2\n b: }'), {})).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('broken.yaml') }),
    );
  });

  it("the sections that decide whether the environment may override a key are the schema's", () => {
    expect(Object.keys(configSchema().shape).sort()).toEqual([...CONFIG_SECTIONS].sort());
    for (const name of configEnvNames())
      expect(CONFIG_SECTIONS.some((s) => name.startsWith(`${s.toUpperCase()}_`))).toBe(true);
  });

  it('an empty config with no overriding variable is valid; anything else is still checked', () => {
    expect(loadConfig({}, { HOME: '/root', CATNAPPING: '1' }).config).toEqual({});
    expect(loadConfig(file('empty.yaml', ''), {}).config).toEqual({});
    expect(() => loadConfig(file('scalar.yaml', '5'), {})).toThrow(/scalar\.yaml/);
    expect(() => loadConfig({}, { CATNAP_POP_SIZE: '0' })).toThrow(/catnap\.pop_size/);
  });
});
