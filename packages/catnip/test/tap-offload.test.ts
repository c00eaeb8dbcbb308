// net_tap: the one virtual device here whose driver offers checksum offloads
// (computed by the driver), so this exercises the offload path: TX frames
// carry only the pseudo-header sum and the driver's flags; RX checksums are
// judged from the flags the driver sets. The kernel on the TAP's other side
// (in a namespace of the veth harness) is the peer.
import { existsSync } from 'node:fs';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipDevice } from '../src/index.js';
import { arpRequest, ethernet, ip, ipv4, mac, parseArp, parseIpv4, udp } from './frames.js';
import { missingNetnsDpdk, untilFrame } from './helpers.js';

const missing = () =>
  missingNetnsDpdk() ?? (existsSync('/dev/net/tun') ? undefined : 'needs /dev/net/tun');

describePrivileged('catnip on net_tap with the driver checksum offloads', missing, () => {
  const net = useNetnsPair();
  let device: CatnipDevice;
  let tapIf: string;
  const kernelIp = '10.250.0.1';
  const ourIp = '10.250.0.2';
  let kernelMac: string;

  beforeAll(() => {
    const { pair } = net;
    tapIf = `${pair.devIf.slice(0, -1)}t`;
    device = new CatnipDevice({ vdevs: [`net_tap0,iface=${tapIf}`], netns: pair.devNs });
    for (const args of [
      ['addr', 'add', `${kernelIp}/24`, 'dev', tapIf],
      ['link', 'set', tapIf, 'up'],
    ]) {
      const r = pair.exec('dev', 'ip', args);
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
    kernelMac = JSON.parse(pair.exec('dev', 'ip', ['-j', 'link', 'show', 'dev', tapIf]).stdout)[0]
      .address;
  });
  afterAll(() => device?.close());

  it('reports the driver offloads it uses', () => {
    expect(device.port.driver).toBe('net_tap');
    expect(device.port.hardwareChecksum).toMatchObject({
      txIpv4: true,
      txTcp: true,
      txUdp: true,
      rxIpv4: true,
    });
    expect(device.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso: 0 });
  });

  it('gets an ARP reply through the TAP', async () => {
    device.send(arpRequest(device.mac, ip(ourIp), ip(kernelIp)));
    device.flush();
    const reply = await untilFrame(device, (f) => {
      const a = parseArp(f);
      return a?.op === 2 && a.senderIp === kernelIp ? a : undefined;
    });
    expect(reply.senderMac).toBe(kernelMac);
  });

  it('UDP sent with both checksums left to the driver reaches a kernel socket', async () => {
    const { pair } = net;
    const port = 40000 + Math.floor(Math.random() * 20000);
    const server = pair.spawn('dev', 'python3', [
      '-c',
      `import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.bind(('${kernelIp}',${port}))
print('ready',flush=True)
d,a=s.recvfrom(2048)
print(d.decode(),a[0],flush=True)`,
    ]);
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
      pair.exec('dev', 'ip', [
        'neigh',
        'replace',
        ourIp,
        'lladdr',
        Buffer.from(device.mac)
          .toString('hex')
          .replace(/(..)(?!$)/g, '$1:'),
        'dev',
        tapIf,
      ]);
      const data = new TextEncoder().encode('offloaded udp');
      const u = udp(ip(ourIp), ip(kernelIp), 5555, port, data, false);
      device.send(
        ethernet(mac(kernelMac), device.mac, 0x0800, ipv4(ip(ourIp), ip(kernelIp), 17, u, false)),
      );
      device.flush();
      const deadline = Date.now() + 5000;
      while (!out.includes('offloaded udp') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(out).toContain(`offloaded udp ${ourIp}`);
    } finally {
      server.kill();
    }
  });

  it('drops a received frame the driver flags as bad, delivers a good one', async () => {
    const { pair } = net;
    const send = (frame: Uint8Array) => {
      const r = pair.exec('dev', 'python3', [
        '-c',
        `import socket,sys
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)
s.bind(('${tapIf}',0))
s.send(bytes.fromhex(sys.argv[1]))`,
        Buffer.from(frame).toString('hex'),
      ]);
      expect(r.status, r.stderr).toBe(0);
    };
    const frame = (text: string, corrupt: boolean) => {
      const u = udp(ip(kernelIp), ip(ourIp), 7000, 7001, new TextEncoder().encode(text));
      if (corrupt) u[6] = u[6]! ^ 0x33;
      return ethernet(device.mac, mac(kernelMac), 0x0800, ipv4(ip(kernelIp), ip(ourIp), 17, u));
    };
    const before = device.stats().rxBadChecksum;
    send(frame('bad one', true));
    send(frame('good one', false));
    const seen: string[] = [];
    await untilFrame(device, (f) => {
      const p = parseIpv4(f);
      if (p?.protocol === 17 && p.src === kernelIp)
        seen.push(Buffer.from(p.payload.subarray(8)).toString());
      return seen.includes('good one') ? true : undefined;
    });
    expect(seen).toEqual(['good one']);
    expect(device.stats().rxBadChecksum).toBe(before + 1);
  });
});
