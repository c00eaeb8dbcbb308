import {
  assertTimeout,
  DemiError,
  describe,
  type QToken,
  type TokenTable,
  type WaitAnyResult,
} from '@demi/core';

/**
 * catloop's waitAnySync: like BaseLibOS's, but without its 0.2 ms of poll(0).
 * Every poll here is poll(t > 0), whose native part (catmem's) spins on the
 * rings for 2 µs (not at all when the peer last ran on this CPU), yields a few
 * times, then sleeps on the futex until the peer's next push. On a 2-core
 * machine the peer often shares this core, and spinning longer would only
 * delay it.
 */
export function waitAnySync(
  tokens: TokenTable,
  poll: (timeoutMs: number) => void,
  qts: readonly QToken[],
  timeoutMs: number | undefined,
): WaitAnyResult {
  const timeout = assertTimeout(timeoutMs, 'waitSync');
  if (!Array.isArray(qts) || qts.length === 0) {
    throw new DemiError(
      'EINVAL',
      `expected a non-empty array of queue tokens, got ${describe(qts)}`,
      {
        syscall: 'waitSync',
      },
    );
  }
  for (const qt of qts) {
    if (tokens.entry(qt, 'waitSync').waiter !== undefined) {
      throw new DemiError('EINVAL', `queue token ${qt} is already being waited on`, {
        syscall: 'waitSync',
      });
    }
  }
  let deadline: number | undefined;
  let polled = false;
  for (;;) {
    for (let index = 0; index < qts.length; index++) {
      const result = tokens.take(qts[index]!);
      if (result !== undefined) return { index, result };
    }
    const now = performance.now();
    deadline ??= timeout === undefined ? Number.POSITIVE_INFINITY : now + timeout;
    if (now >= deadline && polled) {
      throw new DemiError(
        'ETIMEDOUT',
        `no completion within ${timeout} ms; the token remains valid`,
        {
          syscall: 'waitSync',
        },
      );
    }
    poll(Math.min(1, deadline - now));
    polled = true;
  }
}
