import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A node child running test/fixtures/<script>, with its stdout split into lines. */
export interface Child {
  proc: ChildProcess;
  /** Resolves with the next line the child prints. */
  line(): Promise<string>;
  /** Resolves when the child exits: its exit code (or signal) and stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function fixture(script: string, ...args: string[]): Child {
  return start(process.execPath, [fixturePath(script), ...args]);
}

/** fixture(), with at most `maxOpenFiles` descriptors (RLIMIT_NOFILE) in the child. */
export function fixtureWithOpenFiles(
  maxOpenFiles: number,
  script: string,
  ...args: string[]
): Child {
  const limit = `--nofile=${maxOpenFiles}:${maxOpenFiles}`;
  return start('prlimit', [limit, process.execPath, fixturePath(script), ...args]);
}

function fixturePath(script: string): string {
  return fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url));
}

function start(command: string, args: string[]): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buf = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => {
    proc.on('close', (code, signal) => {
      for (const w of waiting.splice(0)) w(`<exited ${signal ?? code}: ${stderr.trim()}>`);
      resolve({ code, signal, stderr });
    });
  });
  return {
    proc,
    exited,
    line: () => {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      if (proc.exitCode !== null || proc.signalCode !== null)
        return Promise.resolve(`<exited ${proc.signalCode ?? proc.exitCode}: ${stderr.trim()}>`);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** A pipe name no other test (or earlier run) uses. */
export function uniqueName(tag: string): string {
  return `test-${tag}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}
