// The command engine both transports share: finds a request's command, checks
// its arity, runs it against the keyspace, and expires keys in the background.
import { connectionCommands } from './commands/connection.ts';
import { hashCommands } from './commands/hashes.ts';
import { keyCommands } from './commands/keys.ts';
import { listCommands } from './commands/lists.ts';
import { serverCommands } from './commands/server.ts';
import { setCommands } from './commands/sets.ts';
import { stringCommands } from './commands/strings.ts';
import { zsetCommands } from './commands/zsets.ts';
import { type ClientState, type Command, type Context, ERR, type ServerInfo } from './context.ts';
import { Keyspace } from './keyspace.ts';
import { ReplyWriter } from './reply-writer.ts';

export const COMMANDS: readonly Command[] = [
  ...connectionCommands,
  ...stringCommands,
  ...keyCommands,
  ...listCommands,
  ...setCommands,
  ...hashCommands,
  ...zsetCommands,
  ...serverCommands,
];

/** Keys the active expiry cycle looks at per tick, and how often it ticks. */
const EXPIRE_BUDGET = 200;
const EXPIRE_EVERY_MS = 100;

export class Engine {
  readonly ks = new Keyspace();
  /** One writer for every connection: a read's requests run to completion before the next. */
  readonly out = new ReplyWriter();
  readonly #table = new Map<string, Command>();
  #timer: NodeJS.Timeout | undefined;
  #nextClientId = 1;

  readonly server: ServerInfo;

  constructor(server: ServerInfo) {
    this.server = server;
    for (const cmd of COMMANDS) {
      this.#table.set(cmd.name, cmd);
      this.#table.set(cmd.name.toUpperCase(), cmd);
    }
    this.#timer = setInterval(() => this.ks.expireCycle(EXPIRE_BUDGET), EXPIRE_EVERY_MS);
    this.#timer.unref();
  }

  /** A new connection's context, to pass to every execute() of that connection. */
  newContext(): Context {
    const client: ClientState = { id: this.#nextClientId++, name: '', closeAfterReply: false };
    return { ks: this.ks, out: this.out, client, server: this.server, commands: COMMANDS };
  }

  /** Runs one request; its reply goes to `out`. */
  execute(ctx: Context, args: string[]): void {
    const name = args[0]!;
    const cmd = this.#table.get(name) ?? this.#table.get(name.toLowerCase());
    if (cmd === undefined) {
      let rest = '';
      for (let i = 1; i < args.length && rest.length < 128; i++)
        rest += `'${args[i]!.slice(0, 128 - rest.length)}' `;
      this.out.error(
        `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${rest}`,
      );
      return;
    }
    if (cmd.arity > 0 ? args.length !== cmd.arity : args.length < -cmd.arity) {
      this.out.error(ERR.arity(cmd.name));
      return;
    }
    cmd.run(ctx, args);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
