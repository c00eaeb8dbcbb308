import { DEFAULT_POP_SIZE, type DemiConfig, DemiError, MAX_SGA_SIZE } from '@demi/core';
import type { EngineOptions } from './native.js';

export interface CatnapOptions {
  /** Bytes a pop returns at most when the caller names no size (64 KiB). */
  popSize?: number;
  /** TCP_NODELAY on every new TCP socket (default true). */
  nodelay?: boolean;
  /** SO_KEEPALIVE on every new TCP socket, with optional idle time and probe interval. */
  keepalive?: { idleMs?: number; intervalMs?: number } | false;
  /** SO_LINGER on every new TCP socket. */
  linger?: { seconds: number } | false;
  /**
   * Microseconds an async wait busy-polls after a wake-up when completions come
   * in quick succession, while at most 4 sockets are open (default 50, at most
   * 1000; 0 never spins).
   */
  wakeSpinMicros?: number;
}

/** Options from the YAML config's `catnap` and `tcp_socket_options` sections. */
export function optionsFromConfig(config: DemiConfig): CatnapOptions {
  const tcp = config.tcp_socket_options;
  const options: CatnapOptions = {};
  if (config.catnap?.pop_size !== undefined) options.popSize = config.catnap.pop_size;
  if (config.catnap?.wake_spin_us !== undefined)
    options.wakeSpinMicros = config.catnap.wake_spin_us;
  if (tcp?.nodelay !== undefined) options.nodelay = tcp.nodelay;
  if (tcp?.keepalive?.enabled) {
    options.keepalive = {
      idleMs: tcp.keepalive.time_millis ?? 0,
      intervalMs: tcp.keepalive.interval ?? 0,
    };
  }
  if (tcp?.linger?.enabled) options.linger = { seconds: tcp.linger.time_seconds ?? 0 };
  return options;
}

function wholeNumber(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new DemiError(
      'EINVAL',
      `${what} must be an integer in [0, ${max}], got ${String(value)}`,
      { syscall: 'init' },
    );
  }
  return value;
}

// The kernel takes whole seconds, at most 32767.
const msToSeconds = (ms: number): number =>
  ms === 0 ? 0 : Math.min(32767, Math.max(1, Math.ceil(ms / 1000)));

/** Checks the options and turns them into what the addon takes. */
export function resolveOptions(options: CatnapOptions): { popSize: number; engine: EngineOptions } {
  if (typeof options !== 'object' || options === null) {
    throw new DemiError('EINVAL', 'catnap options must be an object', { syscall: 'init' });
  }
  const popSize =
    options.popSize === undefined
      ? DEFAULT_POP_SIZE
      : wholeNumber(options.popSize, 'popSize', MAX_SGA_SIZE);
  if (popSize === 0)
    throw new DemiError('EINVAL', 'popSize must be at least 1', { syscall: 'init' });
  if (options.nodelay !== undefined && typeof options.nodelay !== 'boolean') {
    throw new DemiError('EINVAL', 'nodelay must be a boolean', { syscall: 'init' });
  }
  const engine: EngineOptions = { nodelay: options.nodelay ?? true };
  if (options.wakeSpinMicros !== undefined)
    engine.wakeSpinMicros = wholeNumber(options.wakeSpinMicros, 'wakeSpinMicros', 1000);
  if (options.keepalive) {
    engine.keepalive = true;
    engine.keepIdleSeconds = msToSeconds(
      wholeNumber(options.keepalive.idleMs ?? 0, 'keepalive.idleMs', 2 ** 31 - 1),
    );
    engine.keepIntervalSeconds = msToSeconds(
      wholeNumber(options.keepalive.intervalMs ?? 0, 'keepalive.intervalMs', 2 ** 31 - 1),
    );
  }
  if (options.linger) {
    engine.linger = true;
    engine.lingerSeconds = wholeNumber(options.linger.seconds, 'linger.seconds', 65535);
  }
  return { popSize, engine };
}
