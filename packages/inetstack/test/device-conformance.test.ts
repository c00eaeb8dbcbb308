import { FaultDevice, type FrameDevice, MemoryLink, PcapDevice } from '../src/device/index.js';
import { InetStack } from '../src/stack/inet-stack.js';
import { runDeviceConformance } from '../src/testing/index.js';

// The device contract on the in-memory link, bare and wrapped (the wrappers pass calls on and
// assemble frames given in parts); the peer is a stack that answers ARP.
const targets: Array<[string, (d: FrameDevice) => FrameDevice]> = [
  ['memory link', (d) => d],
  ['memory link behind a FaultDevice', (d) => new FaultDevice(d, { seed: 7 })],
  ['memory link behind a PcapDevice', (d) => new PcapDevice(d, () => {})],
];
for (const [name, wrap] of targets)
  runDeviceConformance({
    name,
    async open() {
      const [bare, peerDevice] = MemoryLink.pair();
      const device = wrap(bare);
      const peer = new InetStack({ device: peerDevice, config: { ipv4: '10.0.0.1' } });
      return {
        device,
        localIp: '10.0.0.2',
        peerIp: '10.0.0.1',
        pump: () => peer.poll(),
        async teardown() {
          device.close();
          peer.close();
        },
      };
    },
  });
