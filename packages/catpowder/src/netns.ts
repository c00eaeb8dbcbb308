import { DemiError, describe } from '@demi/core';
import { loadAddon, toDemiError } from './native.js';

/**
 * Runs `fn` synchronously with this thread inside the named network namespace
 * (`ip netns add`), then returns it home. Sockets `fn` creates belong to that
 * namespace for good, which lets one process hold endpoints in several
 * namespaces (tests, benchmarks). Needs CAP_SYS_ADMIN. Only what `fn` does
 * before it returns is affected: work it schedules for later runs at home.
 */
export function runInNetns<T>(name: string, fn: () => T): T {
  if (typeof name !== 'string' || !/^[^/\0]{1,200}$/.test(name)) {
    throw new DemiError(
      'EINVAL',
      `namespace name must be 1-200 characters without '/', got ${describe(name)}`,
      { syscall: 'setns' },
    );
  }
  if (typeof fn !== 'function')
    throw new DemiError('EINVAL', 'runInNetns needs a function', { syscall: 'setns' });
  let result: T | undefined;
  let failed = false;
  let failure: unknown;
  try {
    loadAddon().runInNetns(name, () => {
      try {
        result = fn();
      } catch (err) {
        failed = true;
        failure = err;
      }
    });
  } catch (err) {
    throw toDemiError(err); // entering the namespace failed
  }
  if (failed) throw failure;
  return result as T;
}
