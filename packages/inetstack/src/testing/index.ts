export {
  arpProbe,
  type DeviceEnv,
  type DeviceTarget,
  runDeviceConformance,
} from './device-conformance.js';
export { failOnInternalErrors } from './internal-errors.js';
