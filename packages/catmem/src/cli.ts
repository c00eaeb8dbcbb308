#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { listPipes, removeStalePipes, removeStaleWakeFifos } from './pipes.js';

const USAGE = `usage: demi-catmem <command> [--dir <directory>] [--json]

commands:
  list    show every catmem pipe, its ends, their pids and whether they are alive
  clean   remove pipes none of whose ends is alive (left by crashed processes)
          and, without --dir, their wake-up FIFOs in /dev/shm

--dir     where pipes live, if not POSIX shared memory (catmem.directory)
--json    machine-readable output`;

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const directory = values.dir;
  const options = directory === undefined ? {} : { directory };
  switch (positionals[0]) {
    case 'list': {
      const pipes = listPipes(options);
      if (values.json) {
        console.log(JSON.stringify(pipes, null, 2));
      } else if (pipes.length === 0) {
        console.log('no catmem pipes');
      } else {
        for (const p of pipes) {
          const ends = p.ends
            .map(
              (e) =>
                `${e.role} ${e.state}${e.pid ? ` pid ${e.pid}` : ''}${e.state === 'open' ? (e.alive ? ' (alive)' : ' (dead)') : ''}`,
            )
            .join(', ');
          console.log(
            `${p.name}  ${p.state}  ring ${p.ringSize} B  ${ends}${p.stale ? '  STALE' : ''}`,
          );
        }
      }
      return 0;
    }
    case 'clean': {
      // Wake-up FIFOs live in /dev/shm, the default place.
      const removed = removeStalePipes(options);
      if (options.directory === undefined) removed.push(...removeStaleWakeFifos());
      if (values.json) console.log(JSON.stringify(removed));
      else
        console.log(
          removed.length === 0
            ? 'nothing to remove'
            : `removed ${removed.length}: ${removed.join(', ')}`,
        );
      return 0;
    }
    default:
      console.error(
        `${positionals[0] === undefined ? 'missing command' : `unknown command ${positionals[0]}`}\n\n${USAGE}`,
      );
      return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`demi-catmem: ${(err as Error).message}`);
  process.exitCode = 1;
}
