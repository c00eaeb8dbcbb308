import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../..', import.meta.url));
const PEER = fileURLToPath(new URL('../fixtures/peer.ts', import.meta.url));
// A bound on how long a child may take, not a speed measurement.
const LINE_TIMEOUT_MS = 60_000;

/** A test/fixtures/peer.ts process and its stdout, line by line. */
export class Peer {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #lines: string[] = [];
  #partial = '';
  #stderr = '';
  #waiters: Array<() => void> = [];

  /** `maxFiles`: the child's descriptor limit (RLIMIT_NOFILE, set by the shell). */
  constructor(
    mode: string,
    address: string,
    port: number,
    arg?: string | number,
    options: { maxFiles?: number } = {},
  ) {
    const args = [
      '--import',
      'tsx',
      PEER,
      mode,
      address,
      String(port),
      ...(arg === undefined ? [] : [String(arg)]),
    ];
    const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
    this.child =
      options.maxFiles === undefined
        ? spawn(process.execPath, args, { cwd: PACKAGE, stdio })
        : spawn(
            '/bin/sh',
            ['-c', `ulimit -n ${options.maxFiles} && exec "$0" "$@"`, process.execPath, ...args],
            { cwd: PACKAGE, stdio },
          );
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (this.#partial + String(chunk)).split('\n');
      this.#partial = parts.pop()!;
      this.#lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += String(chunk);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        for (const w of this.#waiters.splice(0)) w();
        resolve(code);
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The next stdout line starting with `prefix` (the rest of it). */
  async line(prefix: string): Promise<string> {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    for (;;) {
      const i = this.#lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.#lines.splice(i, 1)[0]!.slice(prefix.length).trim();
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `peer exited (${this.child.exitCode ?? this.child.signalCode}) before saying ${prefix}: ${this.#stderr}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`peer did not say ${prefix} within ${LINE_TIMEOUT_MS} ms: ${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async ready(): Promise<number> {
    return Number(await this.line('ready '));
  }

  async result<T = Record<string, unknown>>(): Promise<T> {
    return JSON.parse(await this.line('result ')) as T;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
