// Keyspace commands: DEL EXISTS EXPIRE PEXPIRE TTL PTTL PERSIST TYPE KEYS SCAN DBSIZE FLUSHALL.

import { type Command, type Context, command, ERR } from '../context.ts';
import { Deque } from '../deque.ts';
import { globToRegExp } from '../glob.ts';
import type { Value } from '../keyspace.ts';
import { parseInt64 } from '../numbers.ts';
import { RandomSet } from '../random-set.ts';
import { SortedSet } from '../sorted-set.ts';

export function typeName(v: Value | undefined): string {
  if (v === undefined) return 'none';
  if (typeof v === 'string') return 'string';
  if (v instanceof Deque) return 'list';
  if (v instanceof RandomSet) return 'set';
  if (v instanceof SortedSet) return 'zset';
  return 'hash';
}

function expire(ctx: Context, args: string[], unitMs: number): void {
  const name = args[0]!.toLowerCase();
  const n = parseInt64(args[2]!);
  if (n === undefined) {
    ctx.out.error(ERR.notInteger);
    return;
  }
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let i = 3; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt === 'gt') gt = true;
    else if (opt === 'lt') lt = true;
    else {
      ctx.out.error(`ERR Unsupported option ${args[i]}`);
      return;
    }
  }
  if (nx && (xx || gt || lt)) {
    ctx.out.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return;
  }
  if (gt && lt) {
    ctx.out.error('ERR GT and LT options at the same time are not compatible');
    return;
  }
  const at = Number(n) * unitMs + Date.now();
  if (!Number.isSafeInteger(at)) {
    ctx.out.error(`ERR invalid expire time in '${name}' command`);
    return;
  }
  const key = args[1]!;
  if (!ctx.ks.exists(key)) {
    ctx.out.integer(0);
    return;
  }
  const current = ctx.ks.expires.get(key);
  if (
    (nx && current !== undefined) ||
    (xx && current === undefined) ||
    (gt && (current === undefined || at <= current)) ||
    (lt && current !== undefined && at >= current)
  ) {
    ctx.out.integer(0);
    return;
  }
  ctx.ks.expireAt(key, at);
  ctx.out.integer(1);
}

function ttl(ctx: Context, key: string, unitMs: number): void {
  if (!ctx.ks.exists(key)) {
    ctx.out.integer(-2);
    return;
  }
  const at = ctx.ks.expires.get(key);
  if (at === undefined) {
    ctx.out.integer(-1);
    return;
  }
  const left = Math.max(0, at - Date.now());
  ctx.out.integer(unitMs === 1 ? left : Math.floor((left + 500) / 1000));
}

function scan(ctx: Context, args: string[]): void {
  const cursor = parseInt64(args[1]!);
  if (cursor === undefined || cursor < 0) {
    ctx.out.error('ERR invalid cursor');
    return;
  }
  let match: RegExp | undefined;
  let count = 10;
  let type: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    if (i + 1 >= args.length) {
      ctx.out.error(ERR.syntax);
      return;
    }
    const value = args[++i]!;
    if (opt === 'match') match = value === '*' ? undefined : globToRegExp(value);
    else if (opt === 'count') {
      const n = parseInt64(value);
      if (n === undefined) {
        ctx.out.error(ERR.notInteger);
        return;
      }
      if (n < 1) {
        ctx.out.error(ERR.syntax);
        return;
      }
      count = Number(n);
    } else if (opt === 'type') type = value.toLowerCase();
    else {
      ctx.out.error(ERR.syntax);
      return;
    }
  }
  // The cursor is a position in the keyspace's insertion order.
  const keys: string[] = [];
  let position = 0;
  let next = 0;
  const start = Number(cursor);
  for (const key of ctx.ks.data.keys()) {
    if (position++ < start) continue;
    if (position - start > count) {
      next = position - 1;
      break;
    }
    const v = ctx.ks.get(key);
    if (v === undefined) continue;
    if (match && !match.test(key)) continue;
    if (type !== undefined && typeName(v) !== type) continue;
    keys.push(key);
  }
  ctx.out.arrayLength(2);
  ctx.out.bulk(String(next));
  ctx.out.array(keys);
}

export const keyCommands: Command[] = [
  command('del', -2, ['write'], [1, -1, 1], (ctx, args) => {
    let n = 0;
    for (let i = 1; i < args.length; i++)
      if (ctx.ks.get(args[i]!) !== undefined && ctx.ks.delete(args[i]!)) n++;
    ctx.out.integer(n);
  }),
  command('exists', -2, ['readonly', 'fast'], [1, -1, 1], (ctx, args) => {
    let n = 0;
    for (let i = 1; i < args.length; i++) if (ctx.ks.exists(args[i]!)) n++;
    ctx.out.integer(n);
  }),
  command('expire', -3, ['write', 'fast'], [1, 1, 1], (ctx, args) => expire(ctx, args, 1000)),
  command('pexpire', -3, ['write', 'fast'], [1, 1, 1], (ctx, args) => expire(ctx, args, 1)),
  command('ttl', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => ttl(ctx, args[1]!, 1000)),
  command('pttl', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => ttl(ctx, args[1]!, 1)),
  command('persist', 2, ['write', 'fast'], [1, 1, 1], (ctx, args) => {
    const key = args[1]!;
    ctx.out.integer(ctx.ks.exists(key) && ctx.ks.expires.delete(key) ? 1 : 0);
  }),
  command('type', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) =>
    ctx.out.simple(typeName(ctx.ks.get(args[1]!))),
  ),
  command('keys', 2, ['readonly'], [0, 0, 0], (ctx, args) => {
    const re = globToRegExp(args[1]!);
    const keys: string[] = [];
    for (const key of ctx.ks.data.keys()) if (re.test(key) && ctx.ks.exists(key)) keys.push(key);
    ctx.out.array(keys);
  }),
  command('scan', -2, ['readonly'], [0, 0, 0], scan),
  command('dbsize', 1, ['readonly', 'fast'], [0, 0, 0], (ctx) => ctx.out.integer(ctx.ks.size)),
  command('flushall', -1, ['write'], [0, 0, 0], (ctx, args) => {
    if (args.length > 2 || (args.length === 2 && !/^(a?sync)$/i.test(args[1]!))) {
      ctx.out.error(ERR.syntax);
      return;
    }
    ctx.ks.flush();
    ctx.out.simple('OK');
  }),
];
