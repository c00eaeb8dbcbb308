// List commands: LPUSH RPUSH LPOP RPOP LRANGE LLEN.
import { type Command, type Context, command, ERR } from '../context.ts';
import { Deque } from '../deque.ts';
import { parseIntArg } from '../numbers.ts';
import { clampRange, countArg, getTyped } from './typed.ts';

function push(ctx: Context, args: string[], front: boolean): void {
  let list = getTyped(ctx, args[1]!, Deque);
  if (list === null) return;
  if (list === undefined) {
    list = new Deque();
    ctx.ks.create(args[1]!, list);
  }
  for (let i = 2; i < args.length; i++) {
    if (front) list.pushFront(args[i]!);
    else list.pushBack(args[i]!);
  }
  ctx.out.integer(list.length);
}

function pop(ctx: Context, args: string[], front: boolean): void {
  if (args.length > 3) {
    ctx.out.error(ERR.arity(front ? 'lpop' : 'rpop'));
    return;
  }
  const count = countArg(ctx, args, 2);
  if (count === null) return;
  const list = getTyped(ctx, args[1]!, Deque);
  if (list === null) return;
  if (list === undefined) {
    count === undefined ? ctx.out.nil() : ctx.out.nilArray();
    return;
  }
  const take = () => (front ? list.popFront()! : list.popBack()!);
  if (count === undefined) ctx.out.bulk(take());
  else {
    const n = Math.min(count, list.length);
    ctx.out.arrayLength(n);
    for (let i = 0; i < n; i++) ctx.out.bulk(take());
  }
  if (list.length === 0) ctx.ks.delete(args[1]!);
}

export const listCommands: Command[] = [
  command('lpush', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    push(ctx, args, true),
  ),
  command('rpush', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], (ctx, args) =>
    push(ctx, args, false),
  ),
  command('lpop', -2, ['write', 'fast'], [1, 1, 1], (ctx, args) => pop(ctx, args, true)),
  command('rpop', -2, ['write', 'fast'], [1, 1, 1], (ctx, args) => pop(ctx, args, false)),
  command('llen', 2, ['readonly', 'fast'], [1, 1, 1], (ctx, args) => {
    const list = getTyped(ctx, args[1]!, Deque);
    if (list !== null) ctx.out.integer(list?.length ?? 0);
  }),
  command('lrange', 4, ['readonly'], [1, 1, 1], (ctx, args) => {
    const start = parseIntArg(args[2]!);
    const stop = parseIntArg(args[3]!);
    if (start === undefined || stop === undefined) {
      ctx.out.error(ERR.notInteger);
      return;
    }
    const list = getTyped(ctx, args[1]!, Deque);
    if (list === null) return;
    const range = list === undefined ? undefined : clampRange(start, stop, list.length);
    if (range === undefined) {
      ctx.out.arrayLength(0);
      return;
    }
    ctx.out.arrayLength(range[1] - range[0] + 1);
    for (let i = range[0]; i <= range[1]; i++) ctx.out.bulk(list!.at(i));
  }),
];
