import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Opcode } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Catmem } from '../src/index.js';
import { uniqueName } from './support/child.js';

// benchmarks/c/shm-ring.c implements the layout from the README alone; these
// tests hold Node and C ends of the same pipe.
const SOURCE = fileURLToPath(new URL('../../../benchmarks/c/shm-ring.c', import.meta.url));
const hasCc = () =>
  spawnSync('cc', ['--version']).status === 0
    ? undefined
    : 'needs a C compiler (cc) to build benchmarks/c/shm-ring.c';

describePrivileged('a C program speaking the layout', hasCc, () => {
  let dir: string;
  let exe: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'catmem-c-'));
    exe = join(dir, 'shm-ring');
    const built = spawnSync(
      'cc',
      ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-o', exe, SOURCE],
      { encoding: 'utf8' },
    );
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const proc = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
    });
    proc.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
    });
    const ready = new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
      proc.on('close', (code) => resolve({ code, out, err })),
    );
    return { ready, done };
  };

  it('echoes what Node pushes, across many ring wraps, and leaves on EOF', async () => {
    const libos = new Catmem({ ringSize: 64 * 1024 });
    const name = uniqueName('c-echo');
    const qd = libos.createPipe(name);
    const c = run(['echo', name]);
    let x = 7;
    for (let i = 0; i < 400; i++) {
      const n = 1 + ((i * 797) % (libos.pipeInfo(qd).maxMessage - 1));
      const msg = Uint8Array.from(
        { length: n },
        () => (x = (x * 1103515245 + 12345) & 0x7fffffff) & 255,
      );
      await libos.wait(libos.push(qd, { segments: [msg] }), 10_000);
      const r = await libos.wait(libos.pop(qd, 1 << 20), 10_000);
      expect(r.opcode).toBe(Opcode.POP);
      expect(Buffer.from(r.sga!.segments[0]!).equals(Buffer.from(msg))).toBe(true);
    }
    libos.close(qd);
    expect(await c.done).toMatchObject({ code: 0, err: '' });
    await libos.shutdown();
    expect(readdirSync('/dev/shm').filter((f) => f.includes(name))).toEqual([]);
  });

  it('pings a Node echo through a pipe C created, then Node reads its EOF', async () => {
    const name = uniqueName('c-create');
    const c = run(['echo', name, '--create']);
    await c.ready;
    const libos = new Catmem();
    const qd = libos.openPipe(name);
    expect(libos.pipeInfo(qd)).toMatchObject({ side: 'opener', ringSize: 1 << 20 });
    for (let i = 0; i < 64; i++) {
      const msg = new TextEncoder().encode(`message ${i}`);
      libos.waitSync(libos.push(qd, { segments: [msg] }), 10_000);
      expect(new TextDecoder().decode(libos.waitSync(libos.pop(qd), 10_000).sga!.segments[0])).toBe(
        `message ${i}`,
      );
    }
    libos.close(qd);
    expect(await c.done).toMatchObject({ code: 0, err: '' });
    await libos.shutdown();
    expect(readdirSync('/dev/shm').filter((f) => f.includes(name))).toEqual([]);
  });

  it('C pings, Node echoes with async waits; C checks every byte', async () => {
    const libos = new Catmem();
    const name = uniqueName('c-ping');
    const qd = libos.createPipe(name);
    const c = run(['ping', name, '500', '1000']);
    let echoed = 0;
    for (;;) {
      const r = await libos.wait(libos.pop(qd), 10_000);
      if (r.sga!.segments.length === 0) break;
      await libos.wait(libos.push(qd, r.sga!), 10_000);
      echoed++;
    }
    const done = await c.done;
    expect(done).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(done.out).samplesNs).toHaveLength(500);
    expect(echoed).toBe(500);
    libos.close(qd);
    await libos.shutdown();
  });
});
