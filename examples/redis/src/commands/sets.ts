// Set commands: SADD SREM SPOP SMEMBERS SCARD SISMEMBER.
import { type Command, command, ERR } from '../context.ts';
import { RandomSet } from '../random-set.ts';
import { countArg, getTyped } from './typed.ts';

export const setCommands: Command[] = [
  command('sadd', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) => {
    let set = getTyped(ctx, args[1]!, RandomSet);
    if (set === null) return;
    if (set === undefined) {
      set = new RandomSet();
      ctx.ks.create(args[1]!, set);
    }
    let added = 0;
    for (let i = 2; i < args.length; i++) if (set.add(args[i]!)) added++;
    ctx.out.integer(added);
  }),
  command('srem', -3, ['write', 'fast'], [1, 1, 1], (ctx, args) => {
    const set = getTyped(ctx, args[1]!, RandomSet);
    if (set === null) return;
    let removed = 0;
    if (set !== undefined) {
      for (let i = 2; i < args.length; i++) if (set.delete(args[i]!)) removed++;
      if (set.size === 0) ctx.ks.delete(args[1]!);
    }
    ctx.out.integer(removed);
  }),
  command('spop', -2, ['write', 'random', 'fast'], [1, 1, 1], (ctx, args) => {
    if (args.length > 3) {
      ctx.out.error(ERR.syntax);
      return;
    }
    const count = countArg(ctx, args, 2);
    if (count === null) return;
    const set = getTyped(ctx, args[1]!, RandomSet);
    if (set === null) return;
    if (set === undefined) {
      count === undefined ? ctx.out.nil() : ctx.out.arrayLength(0);
      return;
    }
    if (count === undefined) ctx.out.bulk(set.popRandom()!);
    else {
      const n = Math.min(count, set.size);
      ctx.out.arrayLength(n);
      for (let i = 0; i < n; i++) ctx.out.bulk(set.popRandom()!);
    }
    if (set.size === 0) ctx.ks.delete(args[1]!);
  }),
  command('smembers', 2, ['readonly'], [1, 1, 1], (ctx, args) => {
    const set = getTyped(ctx, args[1]!, RandomSet);
    if (set !== null) ctx.out.array(set?.members() ?? []);
  }),
  command('scard', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const set = getTyped(ctx, args[1]!, RandomSet);
    if (set !== null) ctx.out.integer(set?.size ?? 0);
  }),
  command('sismember', 3, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const set = getTyped(ctx, args[1]!, RandomSet);
    if (set !== null) ctx.out.integer(set?.has(args[2]!) ? 1 : 0);
  }),
];
