import { type LibOS, Opcode, type QDesc } from '@demi/core';

/** Echoes everything on `qd` back until the peer closes, then closes it. Resolves with bytes echoed. */
export async function echoUntilEof(libos: LibOS, qd: QDesc): Promise<number> {
  let total = 0;
  for (;;) {
    const popped = await libos.wait(libos.pop(qd));
    if (popped.opcode !== Opcode.POP)
      throw new Error(`pop failed: opcode ${popped.opcode} ret ${popped.ret}`);
    const data = popped.sga!.segments[0]!;
    if (data.byteLength === 0) break;
    total += data.byteLength;
    const pushed = await libos.wait(libos.push(qd, { segments: [data] }));
    if (pushed.opcode !== Opcode.PUSH) throw new Error(`push failed: ret ${pushed.ret}`);
  }
  libos.close(qd);
  return total;
}

/** Accepts `n` connections on a listener and echoes on each until EOF. */
export async function echoServer(libos: LibOS, listener: QDesc, n: number): Promise<number[]> {
  const sessions: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = await libos.wait(libos.accept(listener));
    if (accepted.opcode !== Opcode.ACCEPT) throw new Error(`accept failed: ret ${accepted.ret}`);
    sessions.push(echoUntilEof(libos, accepted.accepted!.qd));
  }
  return Promise.all(sessions);
}
