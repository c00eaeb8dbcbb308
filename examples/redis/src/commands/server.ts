// Server commands: INFO DBSIZE CONFIG GET COMMAND (what redis-benchmark and redis-cli ask).
import { type Command, type Context, command, ERR } from '../context.ts';
import { globToRegExp } from '../glob.ts';

const SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'keyspace'];

function section(ctx: Context, name: string): string {
  const lines: string[] = [];
  const s = ctx.server;
  if (name === 'server') {
    lines.push(
      'redis_version:7.0.0',
      'redis_mode:standalone',
      `demi_transport:${s.transport}`,
      `os:${process.platform}`,
      `process_id:${process.pid}`,
      `tcp_port:${s.port}`,
      `uptime_in_seconds:${Math.floor((Date.now() - s.startedAt) / 1000)}`,
    );
  } else if (name === 'clients') {
    lines.push(`connected_clients:${s.connectedClients()}`);
  } else if (name === 'memory') {
    const m = process.memoryUsage();
    lines.push(`used_memory:${m.heapUsed + m.external}`, `used_memory_rss:${m.rss}`);
  } else if (name === 'persistence') {
    lines.push('loading:0', 'rdb_changes_since_last_save:0', 'aof_enabled:0');
  } else if (name === 'stats') {
    lines.push('expired_keys:0');
  } else if (name === 'keyspace') {
    if (ctx.ks.size > 0)
      lines.push(`db0:keys=${ctx.ks.size},expires=${ctx.ks.expires.size},avg_ttl=0`);
  }
  const title = name[0]!.toUpperCase() + name.slice(1);
  return `# ${title}\r\n${lines.map((l) => `${l}\r\n`).join('')}`;
}

function configValues(ctx: Context): [string, string][] {
  return [
    ['save', ''],
    ['appendonly', 'no'],
    ['databases', '1'],
    ['maxmemory', '0'],
    ['maxclients', '10000'],
    ['timeout', '0'],
    ['port', String(ctx.server.port)],
    ['proto-max-bulk-len', String(512 * 1024 * 1024)],
  ];
}

function commandInfo(ctx: Context, cmd: Command): void {
  ctx.out.arrayLength(6);
  ctx.out.bulk(cmd.name);
  ctx.out.integer(cmd.arity);
  ctx.out.arrayLength(cmd.flags.length);
  for (const f of cmd.flags) ctx.out.simple(f);
  ctx.out.integer(cmd.firstKey);
  ctx.out.integer(cmd.lastKey);
  ctx.out.integer(cmd.step);
}

export const serverCommands: Command[] = [
  command('info', -1, [], [0, 0, 0], (ctx, args) => {
    const wanted = args.slice(1).map((a) => a.toLowerCase());
    const all =
      wanted.length === 0 ||
      wanted.some((w) => w === 'all' || w === 'default' || w === 'everything');
    const names = all ? SECTIONS : SECTIONS.filter((n) => wanted.includes(n));
    ctx.out.bulk(names.map((n) => section(ctx, n)).join('\r\n'));
  }),
  command('config', -2, [], [0, 0, 0], (ctx, args) => {
    const sub = args[1]!.toLowerCase();
    if (sub === 'get') {
      if (args.length < 3) {
        ctx.out.error(ERR.arity('config|get'));
        return;
      }
      const found = configValues(ctx).filter(([name]) =>
        args.slice(2).some((p) => globToRegExp(p.toLowerCase()).test(name)),
      );
      ctx.out.arrayLength(found.length * 2);
      for (const [name, value] of found) {
        ctx.out.bulk(name);
        ctx.out.bulk(value);
      }
      return;
    }
    if (sub === 'resetstat') {
      ctx.out.simple('OK');
      return;
    }
    ctx.out.error(ERR.unknownSubcommand(args[1]!, 'CONFIG'));
  }),
  command('command', -1, [], [0, 0, 0], (ctx, args) => {
    if (args.length === 1) {
      ctx.out.arrayLength(ctx.commands.length);
      for (const cmd of ctx.commands) commandInfo(ctx, cmd);
      return;
    }
    const sub = args[1]!.toLowerCase();
    if (sub === 'count') {
      ctx.out.integer(ctx.commands.length);
      return;
    }
    if (sub === 'docs') {
      ctx.out.arrayLength(0);
      return;
    }
    if (sub === 'info') {
      const names = args.slice(2).map((a) => a.toLowerCase());
      ctx.out.arrayLength(names.length);
      for (const n of names) {
        const cmd = ctx.commands.find((c) => c.name === n);
        if (cmd) commandInfo(ctx, cmd);
        else ctx.out.nilArray();
      }
      return;
    }
    ctx.out.error(ERR.unknownSubcommand(args[1]!, 'COMMAND'));
  }),
];
