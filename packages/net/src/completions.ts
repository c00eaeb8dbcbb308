import { ERRNO, type LibOS, Opcode, type QResult, type QToken } from '@demi/core';

/** Completions taken per waitNextN call. */
const BATCH = 256;

/**
 * Hands each LibOS's completions to the sockets that issued them. One waitNextN
 * loop per LibOS takes them in batches: a promise per batch instead of one per
 * pop and push, which halves the garbage a busy server makes. Consequence: code
 * sharing a LibOS with @demi/net must wait on its own tokens by name (wait,
 * waitAny), not with waitNextN.
 */
class Completions {
  readonly #libos: LibOS;
  readonly #handlers = new Map<QToken, (result: QResult) => void>();
  #running = false;

  constructor(libos: LibOS) {
    this.#libos = libos;
  }

  on(qt: QToken, handler: (result: QResult) => void): void {
    this.#handlers.set(qt, handler);
    if (!this.#running) void this.#loop();
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#handlers.size > 0) {
        const results = await this.#libos.waitNextN(BATCH);
        for (const result of results) {
          const handler = this.#handlers.get(result.qt);
          if (handler === undefined) continue;
          this.#handlers.delete(result.qt);
          handler(result);
        }
      }
    } catch {
      // The LibOS was shut down (or refused the wait): every operation is over.
      const pending = [...this.#handlers];
      this.#handlers.clear();
      for (const [qt, handler] of pending)
        handler({ opcode: Opcode.FAILED, qd: -1, qt, ret: ERRNO.ECANCELED });
    } finally {
      this.#running = false;
    }
  }
}

const byLibOS = new WeakMap<LibOS, Completions>();

/** Calls `handler` once with the result of `qt`, issued by `libos`. */
export function whenDone(libos: LibOS, qt: QToken, handler: (result: QResult) => void): void {
  let completions = byLibOS.get(libos);
  if (completions === undefined) {
    completions = new Completions(libos);
    byLibOS.set(libos, completions);
  }
  completions.on(qt, handler);
}
