// What a command runs with: the keyspace, the reply writer, its connection's
// state and the server's. Commands are plain functions over these.
import type { Keyspace } from './keyspace.ts';
import type { ReplyWriter } from './reply-writer.ts';

export interface ClientState {
  readonly id: number;
  name: string;
  /** Set by QUIT: the transport closes once the replies so far are sent. */
  closeAfterReply: boolean;
}

export interface ServerInfo {
  readonly startedAt: number;
  readonly port: number;
  /** 'node:net' or the demi LibOS's name. */
  readonly transport: string;
  connectedClients(): number;
}

export interface Context {
  readonly ks: Keyspace;
  readonly out: ReplyWriter;
  readonly client: ClientState;
  readonly server: ServerInfo;
  /** The command table, for COMMAND. */
  readonly commands: readonly Command[];
}

export interface Command {
  /** Lower case, as COMMAND reports it. */
  readonly name: string;
  /** Redis's arity: N exactly N arguments (name included), -N at least N. */
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  run(ctx: Context, args: string[]): void;
}

/** Builds a command; `keys` is [first, last, step] as COMMAND reports them. */
export function command(
  name: string,
  arity: number,
  flags: string[],
  keys: [number, number, number],
  run: (ctx: Context, args: string[]) => void,
): Command {
  return { name, arity, flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], run };
}

export const ERR = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  syntax: 'ERR syntax error',
  overflow: 'ERR increment or decrement would overflow',
  notPositive: 'ERR value is out of range, must be positive',
  arity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  unknownSubcommand: (sub: string, cmd: string) =>
    `ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${cmd} HELP.`,
};
