import type { DemiConfig, LoaderContext } from '@demi/core';
import { type FrameDevice, InetStackLibOS } from '@demi/inetstack';
import { CatnipDevice } from './device.js';
import { type CatnipDeviceOptions, optionsFromConfig } from './options.js';

export interface CatnipLibOSOptions {
  /** demi's configuration: demikernel.local_ipv4_addr is required; dpdk.eal_init and dpdk.port_id pick the port. */
  config: DemiConfig;
  /** Overrides what the config says about the port (tests and tools name a vdev or a namespace here). */
  device?: CatnipDeviceOptions;
  /** Wraps the port before the stack sees it, e.g. in @demi/inetstack's FaultDevice or PcapDevice. */
  wrap?: (device: CatnipDevice) => FrameDevice;
  env?: NodeJS.ProcessEnv;
}

/**
 * The catnip LibOS: demi's queue API over @demi/inetstack over a DPDK port.
 * DPDK is polled, so async waits poll in short slices that yield to the event
 * loop and waitSync spins. shutdown() closes the port; the last catnip
 * instance in the process also cleans up DPDK's EAL.
 */
export class CatnipLibOS extends InetStackLibOS {
  /** The DPDK port under the stack (for stats and link state). */
  readonly port: CatnipDevice;

  constructor(options: CatnipLibOSOptions) {
    const port = new CatnipDevice({
      ...optionsFromConfig(options.config, options.env),
      ...options.device,
    });
    try {
      super({
        name: 'catnip',
        device: options.wrap ? options.wrap(port) : port,
        config: options.config,
      });
    } catch (err) {
      port.close();
      throw err;
    }
    this.port = port;
  }
}

/** The registry's entry point: `init({ libos: 'catnip' })` or DEMI_LIBOS=catnip. */
export function createLibOS(context: LoaderContext): CatnipLibOS {
  return new CatnipLibOS({ config: context.config, env: context.env });
}
