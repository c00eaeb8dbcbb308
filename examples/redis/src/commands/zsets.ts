// Sorted-set commands: ZADD ZRANGE ZPOPMIN ZSCORE ZCARD.
import { type Command, type Context, command, ERR } from '../context.ts';
import { formatDouble, parseDouble, parseIntArg } from '../numbers.ts';
import { SortedSet } from '../sorted-set.ts';
import { clampRange, countArg, getTyped } from './typed.ts';

function zadd(ctx: Context, args: string[]): void {
  const flags = new Set<string>();
  let i = 2;
  for (; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (
      opt !== 'nx' &&
      opt !== 'xx' &&
      opt !== 'gt' &&
      opt !== 'lt' &&
      opt !== 'ch' &&
      opt !== 'incr'
    )
      break;
    flags.add(opt);
  }
  const nx = flags.has('nx');
  const xx = flags.has('xx');
  const gt = flags.has('gt');
  const lt = flags.has('lt');
  const incr = flags.has('incr');
  const pairs = args.length - i;
  if (pairs === 0 || pairs % 2 !== 0) {
    ctx.out.error(ERR.syntax);
    return;
  }
  if (nx && xx) {
    ctx.out.error('ERR XX and NX options at the same time are not compatible');
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.out.error('ERR GT, LT, and/or NX options at the same time are not compatible');
    return;
  }
  if (incr && pairs > 2) {
    ctx.out.error('ERR INCR option supports a single increment-element pair');
    return;
  }
  const scores: number[] = [];
  for (let j = i; j < args.length; j += 2) {
    const score = parseDouble(args[j]!);
    if (score === undefined) {
      ctx.out.error(ERR.notFloat);
      return;
    }
    scores.push(score);
  }
  let zset = getTyped(ctx, args[1]!, SortedSet);
  if (zset === null) return;
  if (zset === undefined) {
    if (xx) {
      incr ? ctx.out.nil() : ctx.out.integer(0);
      return;
    }
    zset = new SortedSet();
    ctx.ks.create(args[1]!, zset);
  }
  let added = 0;
  let changed = 0;
  let result: number | undefined;
  for (let j = i, k = 0; j < args.length; j += 2, k++) {
    const member = args[j + 1]!;
    const old = zset.score(member);
    let score = scores[k]!;
    if ((nx && old !== undefined) || (xx && old === undefined)) continue;
    if (incr && old !== undefined) {
      score += old;
      if (Number.isNaN(score)) {
        ctx.out.error('ERR resulting score is not a number (NaN)');
        return;
      }
    }
    if (old !== undefined && ((gt && score <= old) || (lt && score >= old))) continue;
    result = score;
    if (old === undefined) added++;
    else if (old !== score) changed++;
    zset.set(member, score);
  }
  if (zset.size === 0) ctx.ks.delete(args[1]!);
  if (incr) {
    result === undefined ? ctx.out.nil() : ctx.out.bulk(formatDouble(result));
    return;
  }
  ctx.out.integer(flags.has('ch') ? added + changed : added);
}

export const zsetCommands: Command[] = [
  command('zadd', -4, ['write', 'denyoom', 'fast'], [1, 1, 1], zadd),
  command('zrange', -4, ['readonly'], [1, 1, 1], (ctx, args) => {
    let withScores = false;
    for (let i = 4; i < args.length; i++) {
      if (args[i]!.toLowerCase() === 'withscores') withScores = true;
      else {
        ctx.out.error(ERR.syntax);
        return;
      }
    }
    const start = parseIntArg(args[2]!);
    const stop = parseIntArg(args[3]!);
    if (start === undefined || stop === undefined) {
      ctx.out.error(ERR.notInteger);
      return;
    }
    const zset = getTyped(ctx, args[1]!, SortedSet);
    if (zset === null) return;
    const range = zset === undefined ? undefined : clampRange(start, stop, zset.size);
    if (range === undefined) {
      ctx.out.arrayLength(0);
      return;
    }
    const entries = zset!.range(range[0], range[1]);
    ctx.out.arrayLength(entries.length * (withScores ? 2 : 1));
    for (const e of entries) {
      ctx.out.bulk(e.member);
      if (withScores) ctx.out.bulk(formatDouble(e.score));
    }
  }),
  command('zpopmin', -2, ['write', 'fast'], [1, 1, 1], (ctx, args) => {
    if (args.length > 3) {
      ctx.out.error(ERR.syntax);
      return;
    }
    const count = countArg(ctx, args, 2);
    if (count === null) return;
    const zset = getTyped(ctx, args[1]!, SortedSet);
    if (zset === null) return;
    if (zset === undefined) {
      ctx.out.arrayLength(0);
      return;
    }
    const entries = zset.popMin(count ?? 1);
    ctx.out.arrayLength(entries.length * 2);
    for (const e of entries) {
      ctx.out.bulk(e.member);
      ctx.out.bulk(formatDouble(e.score));
    }
    if (zset.size === 0) ctx.ks.delete(args[1]!);
  }),
  command('zscore', 3, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const zset = getTyped(ctx, args[1]!, SortedSet);
    if (zset === null) return;
    const score = zset?.score(args[2]!);
    ctx.out.bulkOrNil(score === undefined ? undefined : formatDouble(score));
  }),
  command('zcard', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const zset = getTyped(ctx, args[1]!, SortedSet);
    if (zset !== null) ctx.out.integer(zset?.size ?? 0);
  }),
];
