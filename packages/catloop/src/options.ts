import { DemiError, type LoaderContext } from '@demi/core';

/** Each connection's pipe: two rings of this many bytes. */
export const DEFAULT_RING_SIZE = 1024 * 1024;
export const MIN_RING_SIZE = 4096;
export const MAX_RING_SIZE = 256 * 1024 * 1024;
/** Linux's default ip_local_port_range starts here too. */
export const DEFAULT_FIRST_EPHEMERAL_PORT = 49152;

export interface CatloopOptions {
  /**
   * Bytes of each direction's ring in the connections this instance opens: a
   * power of two from 4 KiB to 256 MiB (default 1 MiB; memory is reserved as data is in flight, not up front). The connecting side
   * decides; the accepting side takes what it finds.
   */
  ringSize?: number;
  /** Ports for bind(port 0) and for connecting sockets are taken from here to 65535 (default 49152). */
  firstEphemeralPort?: number;
}

export interface ResolvedOptions {
  ringSize: number;
  firstEphemeralPort: number;
}

export function resolveOptions(options: CatloopOptions = {}): ResolvedOptions {
  const { ringSize = DEFAULT_RING_SIZE, firstEphemeralPort = DEFAULT_FIRST_EPHEMERAL_PORT } =
    options;
  if (
    typeof ringSize !== 'number' ||
    !Number.isInteger(ringSize) ||
    ringSize < MIN_RING_SIZE ||
    ringSize > MAX_RING_SIZE ||
    (ringSize & (ringSize - 1)) !== 0
  ) {
    throw new DemiError(
      'EINVAL',
      `ringSize must be a power of two from 4096 (4 KiB) to ${MAX_RING_SIZE} (256 MiB), got ${String(ringSize)}`,
      {
        syscall: 'init',
      },
    );
  }
  if (
    typeof firstEphemeralPort !== 'number' ||
    !Number.isInteger(firstEphemeralPort) ||
    firstEphemeralPort < 1 ||
    firstEphemeralPort > 65535
  ) {
    throw new DemiError(
      'EINVAL',
      `firstEphemeralPort must be an integer from 1 to 65535, got ${String(firstEphemeralPort)}`,
      { syscall: 'init' },
    );
  }
  return { ringSize, firstEphemeralPort };
}

/** Reads the `catloop` section of the configuration (ring_size, first_ephemeral_port), defensively. */
export function optionsFromConfig(context: LoaderContext | undefined): CatloopOptions {
  const section = (
    context?.config as
      | { catloop?: { ring_size?: unknown; first_ephemeral_port?: unknown } }
      | undefined
  )?.catloop;
  const options: CatloopOptions = {};
  if (section?.ring_size !== undefined) options.ringSize = section.ring_size as number;
  if (section?.first_ephemeral_port !== undefined)
    options.firstEphemeralPort = section.first_ephemeral_port as number;
  return options;
}
