// Looks up a key expecting one type: the value, undefined when absent, or null
// after writing WRONGTYPE for a key of another type.
import { type Context, ERR } from '../context.ts';

export function getTyped<T>(
  ctx: Context,
  key: string,
  type: new (...args: never[]) => T,
): T | undefined | null {
  const v = ctx.ks.get(key);
  if (v === undefined) return undefined;
  if (v instanceof type) return v;
  ctx.out.error(ERR.wrongType);
  return null;
}

/** LRANGE/ZRANGE index rules: negative from the end, clamped; undefined when empty. */
export function clampRange(
  start: number,
  stop: number,
  size: number,
): [number, number] | undefined {
  if (start < 0) start = Math.max(0, size + start);
  if (stop < 0) stop = size + stop;
  if (stop >= size) stop = size - 1;
  if (start > stop || start >= size) return undefined;
  return [start, stop];
}

/** An optional positive count argument (LPOP/SPOP/ZPOPMIN): undefined when absent, null on error. */
export function countArg(ctx: Context, args: string[], index: number): number | undefined | null {
  if (args.length <= index) return undefined;
  const s = args[index]!;
  if (!/^-?[0-9]+$/.test(s) || Number.isNaN(Number(s))) {
    ctx.out.error(ERR.notPositive);
    return null;
  }
  const n = Number(s);
  if (n < 0) {
    ctx.out.error(ERR.notPositive);
    return null;
  }
  return n;
}
