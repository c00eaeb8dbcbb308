// Connection commands: PING ECHO SELECT QUIT CLIENT.
import { type Command, command, ERR } from '../context.ts';
import { parseInt64 } from '../numbers.ts';

const PONG = Buffer.from('+PONG\r\n');
const VALID_NAME = /^[!-~]*$/;

export const connectionCommands: Command[] = [
  command('ping', -1, ['fast'], [0, 0, 0], (ctx, args) => {
    if (args.length > 2) {
      ctx.out.error(ERR.arity('ping'));
      return;
    }
    if (args.length === 2) ctx.out.bulk(args[1]!);
    else ctx.out.bytes(PONG);
  }),
  command('echo', 2, ['fast'], [0, 0, 0], (ctx, args) => ctx.out.bulk(args[1]!)),
  command('select', 2, ['fast'], [0, 0, 0], (ctx, args) => {
    const db = parseInt64(args[1]!);
    if (db === undefined) {
      ctx.out.error(ERR.notInteger);
      return;
    }
    if (db !== 0) {
      ctx.out.error('ERR DB index is out of range');
      return;
    }
    ctx.out.simple('OK');
  }),
  command('quit', -1, ['fast'], [0, 0, 0], (ctx) => {
    ctx.client.closeAfterReply = true;
    ctx.out.simple('OK');
  }),
  command('client', -2, [], [0, 0, 0], (ctx, args) => {
    const sub = args[1]!.toLowerCase();
    if (sub === 'setname') {
      if (args.length !== 3) {
        ctx.out.error(ERR.arity('client|setname'));
        return;
      }
      if (!VALID_NAME.test(args[2]!)) {
        ctx.out.error('ERR Client names cannot contain spaces, newlines or special characters.');
        return;
      }
      ctx.client.name = args[2]!;
      ctx.out.simple('OK');
      return;
    }
    if (sub === 'getname') {
      if (args.length !== 2) {
        ctx.out.error(ERR.arity('client|getname'));
        return;
      }
      ctx.out.bulkOrNil(ctx.client.name === '' ? undefined : ctx.client.name);
      return;
    }
    if (sub === 'id') {
      ctx.out.integer(ctx.client.id);
      return;
    }
    if (sub === 'setinfo') {
      ctx.out.simple('OK');
      return;
    }
    ctx.out.error(ERR.unknownSubcommand(args[1]!, 'CLIENT'));
  }),
];
