// One connection, independent of its transport: received bytes go in, the
// replies to every complete request in them come out as one buffer, and the
// session says whether the connection must close (QUIT, a protocol error, a
// request or a reply past its limit).
import type { Context } from './context.ts';
import type { Engine } from './engine.ts';
import { type ParserLimits, ProtocolError, RespParser } from './resp-parser.ts';

export interface SessionLimits extends ParserLimits {
  /**
   * Most reply bytes a connection may have waiting to be sent (Redis's
   * client-output-buffer-limit): a client that sends and never reads is
   * disconnected when it gets there.
   */
  outputMax: number;
}

export type SessionState = 'open' | 'close-after-reply' | 'drop';

export class Session {
  readonly ctx: Context;
  readonly #engine: Engine;
  readonly #parser: RespParser;
  readonly #outputMax: number;
  state: SessionState = 'open';

  constructor(engine: Engine, limits: SessionLimits) {
    this.#engine = engine;
    this.ctx = engine.newContext();
    this.#parser = new RespParser(limits);
    this.#outputMax = limits.outputMax;
  }

  /** Bytes held for requests still incomplete. */
  get bufferedBytes(): number {
    return this.#parser.bufferedBytes;
  }

  /**
   * Runs every complete request in `data` (plus what came before) and returns
   * their replies as one buffer (undefined if none). `unsent` is how many reply
   * bytes the transport still holds for this connection. Check `state` after.
   */
  receive(data: Buffer, unsent: number): Buffer | undefined {
    if (this.state !== 'open') return undefined;
    const out = this.#engine.out;
    try {
      this.#parser.feed(data);
      for (;;) {
        const args = this.#parser.next();
        if (args === undefined) break;
        this.#engine.execute(this.ctx, args);
        if (out.length + unsent > this.#outputMax) {
          out.discard();
          this.state = 'drop';
          return undefined;
        }
        if (this.ctx.client.closeAfterReply) {
          this.state = 'close-after-reply';
          break;
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        out.error(`ERR ${err.message}`);
        this.state = 'close-after-reply';
      } else {
        // The query buffer limit, or a bug: never let one connection take the server down.
        out.discard();
        this.state = 'drop';
        return undefined;
      }
    }
    return out.length > 0 ? out.take() : undefined;
  }
}
