import { MemoryLink } from '../src/device/index.js';
import { InetStack } from '../src/stack/inet-stack.js';
import { runDeviceConformance } from '../src/testing/index.js';

// The device contract on the in-memory link; the peer is a stack that answers ARP.
runDeviceConformance({
  name: 'memory link',
  async open() {
    const [device, peerDevice] = MemoryLink.pair();
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
