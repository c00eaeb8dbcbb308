// Frame level, against the Linux kernel: catnip on a net_af_packet virtual
// device bound to one end of a veth pair in a namespace; the kernel owns the
// other end. Frames are built by hand, so only the device is under test.
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipDevice, ealStatus } from '../src/index.js';
import {
  arpRequest,
  ethernet,
  icmpEcho,
  ip,
  ipv4,
  mac,
  macText,
  parseArp,
  parseIpv4,
  udp,
} from './frames.js';
import { missingNetnsDpdk, untilFrame } from './helpers.js';

describePrivileged('catnip frames on net_af_packet against the kernel', missingNetnsDpdk, () => {
  const net = useNetnsPair();
  let device: CatnipDevice;

  beforeAll(() => {
    const { pair } = net;
    device = new CatnipDevice({ vdevs: [`net_af_packet0,iface=${pair.devIf}`], netns: pair.devNs });
  });
  afterAll(() => {
    if (!device?.closed) device?.close();
  });

  it('opens port 0 of the af_packet driver with the veth MAC and software checksums', () => {
    expect(device.port.driver).toBe('net_af_packet');
    expect(device.port.device).toBe('net_af_packet0');
    expect(macText(device.mac)).toBe(net.pair.devMac);
    expect(device.mtu).toBe(1500);
    expect(device.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso: 0 });
    expect(device.port.hardwareChecksum.txTcp).toBe(false);
    expect(ealStatus()).toMatchObject({ state: 'up', refs: 1 });
    expect(device.link().up).toBe(true);
  });

  it('gets an ARP reply from the kernel', async () => {
    const { pair } = net;
    expect(device.send(arpRequest(device.mac, ip(pair.devIp), ip(pair.peerIp)))).toBe(true);
    device.flush();
    const reply = await untilFrame(device, (f) => {
      const arp = parseArp(f);
      return arp?.op === 2 && arp.senderIp === pair.peerIp ? arp : undefined;
    });
    expect(reply.senderMac).toBe(pair.peerMac);
    expect(reply.targetIp).toBe(pair.devIp);
  });

  it('pings the kernel: the IPv4 header checksum left 0 is filled in below the stack', async () => {
    const { pair } = net;
    // The kernel answers ARP for us too (it asks who has devIp): give it a static entry.
    pair.exec('peer', 'ip', [
      'neigh',
      'replace',
      pair.devIp,
      'lladdr',
      macText(device.mac),
      'dev',
      pair.peerIf,
    ]);
    const payload = new TextEncoder().encode('catnip ping payload');
    for (let seq = 1; seq <= 3; seq++) {
      const packet = ipv4(
        ip(pair.devIp),
        ip(pair.peerIp),
        1,
        icmpEcho(0x4321, seq, payload),
        false,
      );
      device.send(ethernet(mac(pair.peerMac), device.mac, 0x0800, packet));
      device.flush();
      const reply = await untilFrame(device, (f) => {
        const p = parseIpv4(f);
        if (p?.protocol !== 1 || p.payload[0] !== 0) return undefined;
        return (p.payload[6]! << 8) | p.payload[7]! ? p : undefined;
      });
      expect(reply.src).toBe(pair.peerIp);
      expect(reply.headerOk).toBe(true);
      expect(Buffer.from(reply.payload.subarray(8)).toString()).toBe('catnip ping payload');
      expect((reply.payload[6]! << 8) | reply.payload[7]!).toBe(seq);
    }
  });

  it('sends UDP with the checksum filled in: the kernel accepts it', async () => {
    const { pair } = net;
    const port = 40000 + Math.floor(Math.random() * 20000);
    const server = pair.spawn('peer', 'python3', [
      '-c',
      `import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.bind(('${pair.peerIp}',${port}))
print('ready',flush=True)
d,a=s.recvfrom(2048)
print(d.decode(),flush=True)`,
    ]);
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
      const data = new TextEncoder().encode('udp from catnip');
      const datagram = udp(ip(pair.devIp), ip(pair.peerIp), 5555, port, data, false);
      device.send(
        ethernet(
          mac(pair.peerMac),
          device.mac,
          0x0800,
          ipv4(ip(pair.devIp), ip(pair.peerIp), 17, datagram, false),
        ),
      );
      device.flush();
      const deadline = Date.now() + 5000;
      while (!out.includes('udp from catnip') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(out).toContain('udp from catnip');
    } finally {
      server.kill();
    }
  });

  it('drops received frames with a bad UDP checksum and delivers good ones', async () => {
    const { pair } = net;
    const send = (frame: Uint8Array) => {
      const r = pair.exec('peer', 'python3', [
        '-c',
        `import socket,sys
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)
s.bind(('${pair.peerIf}',0))
s.send(bytes.fromhex(sys.argv[1]))`,
        Buffer.from(frame).toString('hex'),
      ]);
      expect(r.status, r.stderr).toBe(0);
    };
    const frame = (text: string, corrupt: boolean) => {
      const u = udp(ip(pair.peerIp), ip(pair.devIp), 7000, 7001, new TextEncoder().encode(text));
      if (corrupt) u[7] = u[7]! ^ 0x5a;
      return ethernet(
        device.mac,
        mac(pair.peerMac),
        0x0800,
        ipv4(ip(pair.peerIp), ip(pair.devIp), 17, u),
      );
    };
    const before = device.stats().rxBadChecksum;
    send(frame('corrupted', true));
    send(frame('intact', false));
    const seen: string[] = [];
    await untilFrame(device, (f) => {
      const p = parseIpv4(f);
      if (p?.protocol === 17) seen.push(Buffer.from(p.payload.subarray(8)).toString());
      return seen.includes('intact') ? true : undefined;
    });
    expect(seen).toEqual(['intact']);
    expect(device.stats().rxBadChecksum).toBe(before + 1);
  });

  it('refuses frames larger than the port takes, and counts what it moved', () => {
    expect(() => device.send(new Uint8Array(4000))).toThrow(/EMSGSIZE/);
    expect(() => device.send(new Uint8Array(10))).toThrow(/EMSGSIZE/);
    const s = device.stats();
    expect(s.txFrames).toBeGreaterThanOrEqual(5);
    expect(s.rxFrames).toBeGreaterThanOrEqual(5);
    expect(s.txDropped).toBe(0);
  });

  it('closing the last device stops the port and cleans up the EAL (rte_eal_cleanup)', () => {
    device.close();
    expect(device.link().up).toBe(false);
    expect(() => device.stats()).toThrow(/EBADF/);
    // The FrameDevice contract: every call after close is EBADF.
    expect(() => device.send(new Uint8Array(60))).toThrow(/EBADF/);
    expect(() => device.receive(() => {})).toThrow(/EBADF/);
    const status = ealStatus();
    expect(status.state).toBe('cleaned');
    expect(status.cleanupSkipped).toBeUndefined();
  });
});
