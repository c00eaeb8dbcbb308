import { DemiError, type LoaderContext } from '@demi/core';

export const DEFAULT_RING_SIZE = 1 << 20;
export const MIN_RING_SIZE = 4096;
export const MAX_RING_SIZE = 256 << 20;

export interface CatmemOptions {
  /** Bytes of each direction's ring: a power of two from 4 KiB to 256 MiB (default 1 MiB). */
  ringSize?: number;
  /**
   * Where pipes live: by default POSIX shared memory (shm_open, /dev/shm on Linux);
   * or files in a directory, e.g. another tmpfs mount.
   */
  directory?: string;
}

export function assertRingSize(value: unknown, what = 'ringSize'): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_RING_SIZE ||
    value > MAX_RING_SIZE ||
    (value & (value - 1)) !== 0
  ) {
    throw new DemiError(
      'EINVAL',
      `${what} must be a power of two from ${MIN_RING_SIZE} (4 KiB) to ${MAX_RING_SIZE} (256 MiB), got ${String(value)}`,
      { syscall: 'init' },
    );
  }
  return value;
}

export function assertDirectory(value: unknown, what = 'directory'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.includes('\0') || value.length > 4000) {
    throw new DemiError(
      'EINVAL',
      `${what} must be a non-empty path, got ${JSON.stringify(value)}`,
      { syscall: 'init' },
    );
  }
  return value;
}

/** Reads the `catmem` section of the configuration, defensively. */
export function optionsFromConfig(context: LoaderContext | undefined): CatmemOptions {
  const section = (
    context?.config as { catmem?: { ring_size?: unknown; directory?: unknown } } | undefined
  )?.catmem;
  const options: CatmemOptions = {};
  if (section?.ring_size !== undefined)
    options.ringSize = assertRingSize(section.ring_size, 'catmem.ring_size');
  if (section?.directory !== undefined)
    options.directory = assertDirectory(section.directory, 'catmem.directory');
  return options;
}
