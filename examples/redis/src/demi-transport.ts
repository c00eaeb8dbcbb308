// The engine on demi's queue API: one pop outstanding per connection and one
// accept on the listener; every completion arrives through waitNextN. Each
// pop's requests are parsed straight out of the popped segment and their
// replies leave in one push.
import {
  AF_INET,
  type LibOS,
  Opcode,
  type QDesc,
  type QResult,
  type QToken,
  SOCK_STREAM,
} from '@demi/core';
import type { Engine } from './engine.ts';
import { Session, type SessionLimits } from './session.ts';

interface Connection {
  readonly qd: QDesc;
  readonly session: Session;
  popQt: QToken;
  /** Sizes of pushes not yet complete, oldest first (pushes on one queue complete in order). */
  readonly pushSizes: number[];
  unsent: number;
  closing: boolean;
}

export interface DemiServer {
  readonly address: string;
  readonly port: number;
  /** Resolves when the serve loop has ended (after stop()). */
  readonly done: Promise<void>;
  stop(): void;
}

/** Completions taken per waitNextN. */
const BATCH = 256;

export function serveDemi(
  libos: LibOS,
  engine: Engine,
  limits: SessionLimits,
  bindTo: { address: string; port: number },
  connections: Set<unknown>,
): DemiServer {
  const listener = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(listener, bindTo);
  libos.listen(listener, 511);
  const { address, port } = libos.getsockname(listener);
  const conns = new Map<QDesc, Connection>();
  let stopped = false;

  const drop = (conn: Connection): void => {
    conns.delete(conn.qd);
    connections.delete(conn.session);
    try {
      libos.close(conn.qd);
    } catch {
      // Already closed by the LibOS (reset, shutdown): nothing left to release.
    }
  };

  const closeAfterReplies = (conn: Connection): void => {
    conn.closing = true;
    try {
      libos.asyncClose(conn.qd);
    } catch {
      drop(conn);
    }
  };

  const pop = (conn: Connection): void => {
    try {
      conn.popQt = libos.pop(conn.qd);
    } catch {
      drop(conn);
    }
  };

  const onData = (conn: Connection, segments: readonly Uint8Array[]): void => {
    for (const seg of segments) {
      const data = Buffer.from(seg.buffer, seg.byteOffset, seg.byteLength);
      const reply = conn.session.receive(data, conn.unsent);
      const state = conn.session.state;
      if (state === 'drop') {
        drop(conn);
        return;
      }
      if (reply !== undefined) {
        try {
          libos.push(conn.qd, { segments: [reply] });
        } catch {
          drop(conn);
          return;
        }
        conn.pushSizes.push(reply.length);
        conn.unsent += reply.length;
      }
      if (state === 'close-after-reply') {
        closeAfterReplies(conn);
        return;
      }
    }
    pop(conn);
  };

  const onAccept = (r: QResult): void => {
    if (r.opcode === Opcode.ACCEPT && r.accepted) {
      const session = new Session(engine, limits);
      const conn: Connection = {
        qd: r.accepted.qd,
        session,
        popQt: 0,
        pushSizes: [],
        unsent: 0,
        closing: false,
      };
      conns.set(conn.qd, conn);
      connections.add(session);
      pop(conn);
    }
    if (stopped) return;
    try {
      libos.accept(listener);
    } catch {
      stop();
    }
  };

  const onResult = (r: QResult): void => {
    if (r.qd === listener) {
      onAccept(r);
      return;
    }
    const conn = conns.get(r.qd);
    if (conn === undefined) return; // a late completion of a connection already gone
    switch (r.opcode) {
      case Opcode.POP: {
        if (r.qt !== conn.popQt || conn.closing) return;
        const segments = r.sga?.segments ?? [];
        let bytes = 0;
        for (const seg of segments) bytes += seg.byteLength;
        if (bytes === 0) {
          drop(conn); // end of file
          return;
        }
        onData(conn, segments);
        return;
      }
      case Opcode.PUSH:
        conn.unsent -= conn.pushSizes.shift() ?? 0;
        return;
      case Opcode.CLOSE:
        conns.delete(conn.qd);
        connections.delete(conn.session);
        return;
      default:
        // FAILED: a reset, a refused push, or our own close cancelling what was pending.
        if (conn.closing) {
          conns.delete(conn.qd);
          connections.delete(conn.session);
        } else drop(conn);
    }
  };

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    for (const conn of [...conns.values()]) drop(conn);
    try {
      libos.close(listener);
    } catch {
      // already closed
    }
  };

  const loop = async (): Promise<void> => {
    libos.accept(listener);
    while (!stopped) {
      let results: QResult[];
      try {
        results = await libos.waitNextN(BATCH);
      } catch (err) {
        // Shut down under us: end quietly. Anything else (another waitNextN on
        // this LibOS, which this loop must own) is the caller's to see.
        if (stopped || (err as { code?: string }).code === 'EBADF') break;
        stop();
        throw err;
      }
      for (const r of results) onResult(r);
    }
  };

  return { address, port, done: loop(), stop };
}
