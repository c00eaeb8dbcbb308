import type { DemiConfig, LoaderContext } from '@demi/core';
import { InetStackLibOS } from '@demi/inetstack';
import { optionsFromConfig, type RawDeviceOptions } from './options.js';
import { RawDevice } from './raw-device.js';

/**
 * The catpowder LibOS: demi's queue API over the TypeScript TCP/IP stack over a
 * raw Ethernet device. `device` overrides what the config says about the device
 * (tests and tools use it to name a namespace, a batch size, a mode).
 */
export function createCatpowder(config: DemiConfig, device: RawDeviceOptions = {}): InetStackLibOS {
  const raw = new RawDevice({ ...optionsFromConfig(config), ...device });
  try {
    return new InetStackLibOS({ name: 'catpowder', device: raw, config });
  } catch (err) {
    raw.close();
    throw err;
  }
}

/** What `init()` calls when DEMI_LIBOS=catpowder. */
export function createLibOS(context: LoaderContext): InetStackLibOS {
  return createCatpowder(context.config);
}
