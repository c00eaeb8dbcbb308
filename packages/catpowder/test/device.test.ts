// The raw device alone against the Linux kernel in the peer namespace: frames
// built by hand go out, the kernel's answers come back.
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { RawDevice } from '../src/index.js';
import {
  arpRequest,
  icmpEcho,
  ip,
  mac,
  macText,
  parseArp,
  parseIpv4,
  transportChecksum,
  udp,
} from './frames.js';
import { collect, MODE_CASES, untilFrame } from './helpers.js';

for (const mode of MODE_CASES) {
  describePrivileged(
    `raw device (${mode.title}) against the kernel`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();
      let device: RawDevice;
      let devMac: Uint8Array;
      let peerMac: Uint8Array;

      beforeAll(() => {
        const { pair } = net;
        device = new RawDevice({ interfaceName: pair.devIf, netns: pair.devNs, ...mode.options });
        devMac = mac(pair.devMac);
        peerMac = mac(pair.peerMac);
      });
      afterAll(() => device?.close());

      it('reports the interface: MAC, MTU, mode, offloads', () => {
        expect(macText(device.mac)).toBe(net.pair.devMac);
        expect(device.mtu).toBe(1500);
        expect(device.mode).toMatch(mode.options.mode!);
        // AF_PACKET sends 64 KiB TCP frames whole for the kernel to segment; AF_XDP cannot.
        const tso = mode.options.mode === 'af_packet' ? 65536 - 14 : 0;
        expect(device.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso });
      });

      it('an ARP request for the kernel host gets its reply', async () => {
        const { pair } = net;
        expect(device.send(arpRequest(devMac, ip(pair.devIp), ip(pair.peerIp)))).toBe(true);
        device.flush();
        const reply = await untilFrame(device, (f) => {
          const a = parseArp(f);
          return a?.op === 2 && a.senderIp === pair.peerIp ? a : undefined;
        });
        expect(reply.senderMac).toBe(pair.peerMac);
        expect(reply.targetIp).toBe(pair.devIp);
      });

      it('an ICMP echo request gets the kernel echo reply, checksums intact', async () => {
        const { pair } = net;
        const data = new TextEncoder().encode('catpowder ping 0123456789');
        // The IPv4 header checksum is left zero: the device fills it in.
        device.send(
          icmpEcho(devMac, peerMac, ip(pair.devIp), ip(pair.peerIp), 0x4d2, 7, data, false),
        );
        device.flush();
        const reply = await untilFrame(device, (f) => {
          const p = parseIpv4(f);
          return p?.protocol === 1 && p.payload[0] === 0 && p.src === pair.peerIp ? p : undefined;
        });
        expect(reply.headerChecksumOk).toBe(true);
        expect(reply.dst).toBe(pair.devIp);
        expect((reply.payload[4]! << 8) | reply.payload[5]!).toBe(0x4d2);
        expect((reply.payload[6]! << 8) | reply.payload[7]!).toBe(7);
        expect(new TextDecoder().decode(reply.payload.subarray(8))).toBe(
          'catpowder ping 0123456789',
        );
      });

      it('a burst of 200 echo requests in batches gets 200 replies', async () => {
        const { pair } = net;
        for (let seq = 0; seq < 200; seq++) {
          device.send(
            icmpEcho(
              devMac,
              peerMac,
              ip(pair.devIp),
              ip(pair.peerIp),
              0x777,
              seq,
              new Uint8Array(56).fill(seq),
            ),
          );
        }
        device.flush();
        const seen = new Set<number>();
        const deadline = Date.now() + 10_000;
        while (seen.size < 200 && Date.now() < deadline) {
          for (const f of await collect(device, 5)) {
            const p = parseIpv4(f);
            if (
              p?.protocol === 1 &&
              p.payload[0] === 0 &&
              ((p.payload[4]! << 8) | p.payload[5]!) === 0x777
            ) {
              seen.add((p.payload[6]! << 8) | p.payload[7]!);
            }
          }
        }
        expect(seen.size).toBe(200);
      });

      it('UDP with the checksum left to the device reaches a kernel socket', async () => {
        const { pair } = net;
        const sink = pair.spawn('peer', 'socat', [
          '-u',
          'UDP4-RECV:7001,bind=' + pair.peerIp,
          'STDOUT',
        ]);
        let got = '';
        sink.stdout!.on('data', (d: Buffer) => {
          got += d.toString();
        });
        try {
          const deadline = Date.now() + 5000;
          // socat needs a moment to bind; resend until it has the datagram.
          while (!got.includes('to the kernel') && Date.now() < deadline) {
            device.send(
              udp(
                devMac,
                peerMac,
                ip(pair.devIp),
                ip(pair.peerIp),
                40000,
                7001,
                new TextEncoder().encode('to the kernel\n'),
                0,
                false,
              ),
            );
            device.flush();
            await new Promise((r) => setTimeout(r, 50));
          }
          // The kernel drops datagrams whose checksum is wrong, so arrival proves the device filled it.
          expect(got).toContain('to the kernel');
        } finally {
          sink.kill();
        }
      });

      it('UDP from a kernel socket arrives with a valid checksum (the test answers ARP)', async () => {
        const { pair } = net;
        // A process group of its own, so stopping it also stops the loop and socat.
        const sender = pair.spawn(
          'peer',
          'sh',
          [
            '-c',
            `for i in $(seq 1 50); do echo from-kernel-$i; sleep 0.1; done | socat -u STDIN UDP4-SENDTO:${pair.devIp}:7002`,
          ],
          { detached: true },
        );
        try {
          const datagram = await untilFrame(
            device,
            (f) => {
              const a = parseArp(f);
              if (a?.op === 1 && a.targetIp === pair.devIp) {
                // Answer as the stack would, so the kernel can send.
                const reply = arpRequest(devMac, ip(pair.devIp), ip(a.senderIp));
                reply.set(mac(a.senderMac), 0);
                reply[21] = 2;
                reply.set(mac(a.senderMac), 32);
                device.send(reply);
                device.flush();
                return undefined;
              }
              const p = parseIpv4(f);
              return p?.protocol === 17 && p.src === pair.peerIp ? p : undefined;
            },
            10_000,
          );
          expect(datagram.headerChecksumOk).toBe(true);
          expect(transportChecksum(datagram)).toBe(0);
          expect(new TextDecoder().decode(datagram.payload.subarray(8))).toMatch(
            /^from-kernel-\d+\n$/,
          );
        } finally {
          try {
            process.kill(-sender.pid!, 'SIGTERM');
          } catch {
            // It finished by itself.
          }
        }
      });

      it('drops frames with a bad checksum and passes good ones', async () => {
        const { pair } = net;
        // A second raw device on the kernel side plays a sender that corrupts frames.
        const peer = new RawDevice({
          interfaceName: pair.peerIf,
          netns: pair.peerNs,
          checksumOffload: false,
        });
        try {
          const before = device.stats().rxDropped;
          const good = udp(
            peerMac,
            devMac,
            ip(pair.peerIp),
            ip(pair.devIp),
            5000,
            5001,
            new TextEncoder().encode('good'),
            0,
          );
          const badUdp = udp(
            peerMac,
            devMac,
            ip(pair.peerIp),
            ip(pair.devIp),
            5000,
            5001,
            new TextEncoder().encode('bad-udp'),
            0x1234,
          );
          const badIp = udp(
            peerMac,
            devMac,
            ip(pair.peerIp),
            ip(pair.devIp),
            5000,
            5001,
            new TextEncoder().encode('bad-ip'),
            0,
          );
          badIp[24] = badIp[24]! ^ 0xff; // the IPv4 header checksum byte
          peer.send(badUdp);
          peer.send(badIp);
          peer.send(good);
          peer.flush();
          const payloads: string[] = [];
          const got = await untilFrame(device, (f) => {
            const p = parseIpv4(f);
            // Only this test's datagrams (to port 5001): others may still be in flight.
            if (p?.protocol !== 17 || ((p.payload[2]! << 8) | p.payload[3]!) !== 5001) {
              return undefined;
            }
            const text = new TextDecoder().decode(p.payload.subarray(8));
            payloads.push(text);
            return text === 'good' ? text : undefined;
          });
          expect(got).toBe('good');
          expect(payloads).toEqual(['good']);
          expect(device.stats().rxDropped).toBe(before + 2);
        } finally {
          peer.close();
        }
      });

      it('counts what it received and sent', () => {
        const s = device.stats();
        expect(s.txFrames).toBeGreaterThan(200);
        expect(s.rxFrames).toBeGreaterThan(200);
        expect(s.txBytes).toBeGreaterThan(s.txFrames * 42 - 1);
      });

      it('refuses frames it cannot send (EMSGSIZE), without sending them', () => {
        const before = device.stats().txFrames;
        // Above the MTU only with segmentation offload, up to its limit plus the Ethernet header.
        const max = Math.max(device.mtu + 18, device.offloads.tso + 14);
        for (const size of [13, max + 1, 128 * 1024])
          expect(() => device.send(new Uint8Array(size))).toThrow(
            expect.objectContaining({ code: 'EMSGSIZE' }),
          );
        device.flush();
        expect(device.stats().txFrames).toBe(before);
        expect(() => device.send('frame' as unknown as Uint8Array)).toThrow(/EINVAL/);
      });

      it('a frame above the MTU that is no TCP segment is dropped, not sent', () => {
        if (device.offloads.tso === 0) {
          expect(() => device.send(new Uint8Array(device.mtu + 19))).toThrow(/EMSGSIZE/);
          return;
        }
        const before = device.stats();
        const frame = arpRequest(devMac, ip(net.pair.devIp), ip(net.pair.peerIp));
        const big = new Uint8Array(device.mtu + 100);
        big.set(frame);
        expect(device.send(big)).toBe(true);
        device.flush();
        const after = device.stats();
        expect(after.txFrames).toBe(before.txFrames);
        expect(after.txDropped).toBe(before.txDropped + 1);
        expect(after.txOffloadFrames).toBe(before.txOffloadFrames);
      });
    },
  );
}
