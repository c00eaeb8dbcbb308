// String commands: GET SET GETSET INCR DECR INCRBY DECRBY APPEND STRLEN MSET MGET.
import { type Command, type Context, command, ERR } from '../context.ts';
import { addInt64, parseInt64 } from '../numbers.ts';

const OK = Buffer.from('+OK\r\n');

/** The string at key, undefined if none; writes WRONGTYPE and returns null for other types. */
function getString(ctx: Context, key: string): string | undefined | null {
  const v = ctx.ks.get(key);
  if (v === undefined || typeof v === 'string') return v;
  ctx.out.error(ERR.wrongType);
  return null;
}

function set(ctx: Context, args: string[]): void {
  const key = args[1]!;
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let expireAt: number | undefined;
  let unit = '';
  for (let i = 3; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (opt === 'nx' && !xx) nx = true;
    else if (opt === 'xx' && !nx) xx = true;
    else if (opt === 'get') get = true;
    else if (opt === 'keepttl' && unit === '') keepTtl = true;
    else if (
      (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') &&
      !keepTtl &&
      unit === '' &&
      i + 1 < args.length
    ) {
      unit = opt;
      const n = parseInt64(args[++i]!);
      if (n === undefined) {
        ctx.out.error(ERR.notInteger);
        return;
      }
      const v = Number(n);
      if (v <= 0) {
        ctx.out.error("ERR invalid expire time in 'set' command");
        return;
      }
      const ms = opt === 'ex' || opt === 'exat' ? v * 1000 : v;
      expireAt = opt === 'ex' || opt === 'px' ? Date.now() + ms : ms;
      if (!Number.isSafeInteger(expireAt)) {
        ctx.out.error("ERR invalid expire time in 'set' command");
        return;
      }
    } else {
      ctx.out.error(ERR.syntax);
      return;
    }
  }
  let old: string | undefined | null;
  if (get) {
    old = getString(ctx, key);
    if (old === null) return;
  }
  if (nx || xx) {
    const exists = ctx.ks.exists(key);
    if ((nx && exists) || (xx && !exists)) {
      if (get) ctx.out.bulkOrNil(old!);
      else ctx.out.nil();
      return;
    }
  }
  if (keepTtl) {
    ctx.ks.data.set(key, args[2]!);
  } else {
    ctx.ks.set(key, args[2]!);
    if (expireAt !== undefined) ctx.ks.expireAt(key, expireAt);
  }
  if (get) ctx.out.bulkOrNil(old!);
  else ctx.out.bytes(OK);
}

function incrBy(ctx: Context, key: string, by: number | bigint): void {
  const v = getString(ctx, key);
  if (v === null) return;
  const current = v === undefined ? 0 : parseInt64(v);
  if (current === undefined) {
    ctx.out.error(ERR.notInteger);
    return;
  }
  const next = addInt64(current, by);
  if (next === undefined) {
    ctx.out.error(ERR.overflow);
    return;
  }
  if (v === undefined) ctx.ks.create(key, String(next));
  else ctx.ks.data.set(key, String(next)); // keeps the expiry, as Redis does
  ctx.out.integer(next);
}

function incrByArg(ctx: Context, args: string[], sign: 1 | -1): void {
  const by = parseInt64(args[2]!);
  if (by === undefined) {
    ctx.out.error(ERR.notInteger);
    return;
  }
  if (sign === -1 && by === -(2n ** 63n)) {
    ctx.out.error('ERR decrement would overflow');
    return;
  }
  incrBy(ctx, args[1]!, sign === 1 ? by : typeof by === 'number' ? -by : -by);
}

export const stringCommands: Command[] = [
  command('get', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const v = getString(ctx, args[1]!);
    if (v !== null) ctx.out.bulkOrNil(v);
  }),
  command('set', -3, ['write', 'denyoom'], [1, 1, 1], set),
  command('getset', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) => {
    const old = getString(ctx, args[1]!);
    if (old === null) return;
    ctx.ks.set(args[1]!, args[2]!);
    ctx.out.bulkOrNil(old);
  }),
  command('incr', 2, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    incrBy(ctx, args[1]!, 1),
  ),
  command('decr', 2, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    incrBy(ctx, args[1]!, -1),
  ),
  command('incrby', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    incrByArg(ctx, args, 1),
  ),
  command('decrby', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    incrByArg(ctx, args, -1),
  ),
  command('append', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) => {
    const v = getString(ctx, args[1]!);
    if (v === null) return;
    const next = (v ?? '') + args[2]!;
    if (v === undefined) ctx.ks.create(args[1]!, next);
    else ctx.ks.data.set(args[1]!, next);
    ctx.out.integer(next.length);
  }),
  command('strlen', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const v = getString(ctx, args[1]!);
    if (v !== null) ctx.out.integer(v?.length ?? 0);
  }),
  command('mset', -3, ['write', 'denyoom'], [1, -1, 2], (ctx, args) => {
    if (args.length % 2 === 0) {
      ctx.out.error(ERR.arity('mset'));
      return;
    }
    for (let i = 1; i < args.length; i += 2) ctx.ks.set(args[i]!, args[i + 1]!);
    ctx.out.bytes(OK);
  }),
  command('mget', -2, ['readonly', 'fast'], [1, -1, 1], (ctx, args) => {
    ctx.out.arrayLength(args.length - 1);
    for (let i = 1; i < args.length; i++) {
      const v = ctx.ks.get(args[i]!);
      ctx.out.bulkOrNil(typeof v === 'string' ? v : undefined);
    }
  }),
];
