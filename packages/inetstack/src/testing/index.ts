export {
  arpProbe,
  type DeviceEnv,
  type DeviceTarget,
  runDeviceConformance,
} from './device-conformance.js';
