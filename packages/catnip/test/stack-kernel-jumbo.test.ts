// catnip's stack against the Linux kernel over net_af_packet on a veth at MTU
// 9000: above the 1500 DPDK 22.11's af_packet driver reports, with ring frames
// large enough for one jumbo frame. The kernel scenarios run through
// inetstack's FaultDevice dropping 1% of frames each way, and every byte must
// arrive intact both ways. Also: the limits catnip checks before it opens such
// a port (the interface's MTU, the ring's frame and block sizes, memif's buffers).
import { describePrivileged } from '@demi/core/testing';
import { FaultDevice } from '@demi/inetstack';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipDevice, CatnipLibOS, retainEal } from '../src/index.js';
import { missingNetnsDpdk } from './helpers.js';
import { kernelScenarios } from './kernel-scenarios.js';

const MTU = 9000;
/** Ring frames of 9216 bytes (a 9014-byte frame plus the TPACKET_V2 header), four per block. */
const RING = 'framesz=9216,blocksz=36864,framecnt=1024';

describePrivileged(
  'catnip stack against the Linux kernel over net_af_packet at MTU 9000, 1% loss',
  missingNetnsDpdk,
  () => {
    const net = useNetnsPair();
    const track = failOnInternalErrors();
    let libos: CatnipLibOS;
    let faults: FaultDevice;
    let releaseEal: (() => void) | undefined;
    const setMtu = (mtu: number) => {
      const { pair } = net;
      pair.exec('dev', 'ip', ['link', 'set', pair.devIf, 'mtu', String(mtu)]);
      pair.exec('peer', 'ip', ['link', 'set', pair.peerIf, 'mtu', String(mtu)]);
    };
    const vdev = (ring = RING) => `net_af_packet0,iface=${net.pair.devIf},${ring}`;

    beforeAll(() => {
      const { pair } = net;
      // The refusals below run first, on the veth still at 1500; the EAL they
      // start stays up for the LibOS.
      const open = (mtu: number, ring?: string) =>
        new CatnipDevice({ vdevs: [vdev(ring)], netns: pair.devNs, mtu });
      expect(() => open(MTU)).toThrow(
        new RegExp(`EINVAL: the MTU of ${pair.devIf} is 1500, below 9000.*ip link set`),
      );
      releaseEal = retainEal();
      setMtu(MTU);
      expect(() => open(MTU, 'framesz=4096,blocksz=8192')).toThrow(
        /EINVAL: an MTU of 9000 needs net_af_packet ring frames of at least 9046 bytes/,
      );
      expect(() => open(1500, 'framesz=9088,blocksz=36864')).toThrow(
        /EINVAL: net_af_packet's blocksz \(36864\) must be a multiple of its framesz \(9088\)/,
      );
      libos = track(
        new CatnipLibOS({
          config: {
            demikernel: { local_ipv4_addr: pair.devIp, prefix_length: 24 },
            inetstack_config: { mtu: MTU, enable_jumbo_frames: true },
          },
          // trustedLink is for memif only: here checksums are still computed,
          // or the kernel would drop every segment below.
          device: { vdevs: [vdev()], netns: pair.devNs, trustedLink: true },
          wrap: (port) => {
            faults = new FaultDevice(port, { seed: 9000, dropPct: 1 });
            return faults;
          },
        }),
      );
    });
    afterAll(async () => {
      await libos?.shutdown();
      releaseEal?.();
    });

    it('is a jumbo port with checksums done below the stack, not a trusted link', () => {
      expect(libos.port.mtu).toBe(MTU);
      expect(libos.port.port.trustedLink).toBe(false);
      expect(libos.port.offloads).toEqual({ rxChecksum: true, txChecksum: true, tso: 0 });
    });

    it('refuses net_memif at MTU 9000 with its default 2048-byte buffers, naming bsize', () => {
      expect(
        () =>
          new CatnipDevice({
            vdevs: [
              'net_memif7,role=server,id=7,socket=/tmp/demi-catnip-jumbo-refused.sock,socket-abstract=no',
            ],
            mtu: MTU,
          }),
      ).toThrow(
        /EINVAL: an MTU of 9000 needs net_memif buffers of at least 9014 bytes; add bsize=9014/,
      );
    });

    kernelScenarios({
      pair: () => net.pair,
      libos: () => libos,
      bulkBytes: 100 * 2 ** 20,
      pings: 10,
      minReplies: 7,
      timeoutMs: 60_000,
    });

    it('carried jumbo frames both ways, and the faults were real', () => {
      const s = libos.port.stats();
      expect(s.rxBadChecksum).toBe(0);
      expect(s.txDropped).toBe(0);
      // 100 MiB each way in frames of up to 9014 bytes, plus ACKs.
      expect(s.rxBytes / s.rxFrames).toBeGreaterThan(3000);
      expect(s.txBytes / s.txFrames).toBeGreaterThan(3000);
      expect(faults.stats.dropped).toBeGreaterThan(100);
    });
  },
);
