// Hash commands: HSET HGET HDEL HGETALL HINCRBY.
import { type Command, type Context, command, ERR } from '../context.ts';
import { addInt64, parseInt64 } from '../numbers.ts';
import { getTyped } from './typed.ts';

const getHash = (ctx: Context, key: string) =>
  getTyped(ctx, key, Map) as Map<string, string> | undefined | null;

export const hashCommands: Command[] = [
  command('hset', -4, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) => {
    if (args.length % 2 === 1) {
      ctx.out.error(ERR.arity('hset'));
      return;
    }
    let hash = getHash(ctx, args[1]!);
    if (hash === null) return;
    if (hash === undefined) {
      hash = new Map();
      ctx.ks.create(args[1]!, hash);
    }
    let added = 0;
    for (let i = 2; i < args.length; i += 2) {
      if (!hash.has(args[i]!)) added++;
      hash.set(args[i]!, args[i + 1]!);
    }
    ctx.out.integer(added);
  }),
  command('hget', 3, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const hash = getHash(ctx, args[1]!);
    if (hash !== null) ctx.out.bulkOrNil(hash?.get(args[2]!));
  }),
  command('hdel', -3, ['write', 'fast'], [1, 1, 1], (ctx, args) => {
    const hash = getHash(ctx, args[1]!);
    if (hash === null) return;
    let removed = 0;
    if (hash !== undefined) {
      for (let i = 2; i < args.length; i++) if (hash.delete(args[i]!)) removed++;
      if (hash.size === 0) ctx.ks.delete(args[1]!);
    }
    ctx.out.integer(removed);
  }),
  command('hgetall', 2, ['readonly'], [1, 1, 1], (ctx, args) => {
    const hash = getHash(ctx, args[1]!);
    if (hash === null) return;
    ctx.out.arrayLength((hash?.size ?? 0) * 2);
    for (const [field, value] of hash ?? []) {
      ctx.out.bulk(field);
      ctx.out.bulk(value);
    }
  }),
  command('hincrby', 4, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) => {
    const by = parseInt64(args[3]!);
    if (by === undefined) {
      ctx.out.error(ERR.notInteger);
      return;
    }
    let hash = getHash(ctx, args[1]!);
    if (hash === null) return;
    if (hash === undefined) {
      hash = new Map();
      ctx.ks.create(args[1]!, hash);
    }
    const old = hash.get(args[2]!);
    const current = old === undefined ? 0 : parseInt64(old);
    if (current === undefined) {
      ctx.out.error('ERR hash value is not an integer');
      return;
    }
    const next = addInt64(current, by);
    if (next === undefined) {
      ctx.out.error(ERR.overflow);
      return;
    }
    hash.set(args[2]!, String(next));
    ctx.out.integer(next);
  }),
];
