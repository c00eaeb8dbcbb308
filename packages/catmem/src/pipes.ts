import { assertDirectory } from './config.js';
import { native, nativeError } from './native.js';

export type EndState = 'vacant' | 'open' | 'closed';

export interface PipeListing {
  name: string;
  /** Bytes per direction (0 when the header is unreadable). */
  ringSize: number;
  state: 'initializing' | 'ready' | 'removed' | 'invalid';
  ends: Array<{ role: 'creator' | 'opener'; state: EndState; pid: number; alive: boolean }>;
  /** No end is alive: removeStalePipes() would remove it. */
  stale: boolean;
}

const SEGMENT_STATES = ['initializing', 'ready', 'removed'] as const;
const END_STATES: EndState[] = ['vacant', 'open', 'closed'];

/** Every catmem pipe in shared memory (or in `directory`), alive or stale. */
export function listPipes(options: { directory?: string } = {}): PipeListing[] {
  const directory = assertDirectory(options.directory);
  try {
    return native()
      .list(directory)
      .map(
        (p): PipeListing => ({
          name: p.name,
          ringSize: p.ringSize,
          state: SEGMENT_STATES[p.state] ?? 'invalid',
          ends: p.ends.map((e, i): PipeListing['ends'][number] => ({
            role: i === 0 ? 'creator' : 'opener',
            state: END_STATES[e.state] ?? 'closed',
            pid: e.pid,
            alive: e.alive,
          })),
          stale: p.stale,
        }),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    throw nativeError(err, 'listPipes');
  }
}

/** Removes pipes none of whose ends is alive (their processes died); returns their names. */
export function removeStalePipes(options: { directory?: string } = {}): string[] {
  const directory = assertDirectory(options.directory);
  try {
    return native().removeStale(directory).sort();
  } catch (err) {
    throw nativeError(err, 'removeStalePipes');
  }
}

/**
 * Removes wake-up FIFOs (`/dev/shm/demi-catmem-wake.<pid>.<nonce>`, one per
 * LibOS instance that waited asynchronously) whose process is gone; returns
 * their names. A FIFO is stale when nobody holds it open.
 */
export function removeStaleWakeFifos(): string[] {
  try {
    return native().removeStaleBells().sort();
  } catch (err) {
    throw nativeError(err, 'removeStaleWakeFifos');
  }
}
