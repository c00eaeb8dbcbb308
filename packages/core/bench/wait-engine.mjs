// Micro-benchmark of the wait engine: issue + complete + waitNextN / wait with
// many tokens outstanding (one pending pop per connection, as a server keeps).
// Run after building core: node packages/core/bench/wait-engine.mjs [--outstanding 1000]
// (--core <file> measures another build of @demi/core, e.g. an older commit's, bundled).
// Prints ns per completion for each case; compare numbers of the same run only.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    outstanding: { type: 'string', default: '1000' },
    ops: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '3' },
    // Complete through complete() (the table copies the result) even where completeOwned exists.
    copy: { type: 'boolean', default: false },
    // Only the cases whose name contains this text.
    only: { type: 'string', default: '' },
    core: { type: 'string', default: new URL('../dist/index.js', import.meta.url).pathname },
  },
});
const { BaseLibOS, Opcode } = await import(pathToFileURL(resolve(values.core)).href);
const OUTSTANDING = Number(values.outstanding);
const OPS = Number(values.ops);
const ROUNDS = Number(values.rounds);

/** A backend with no device: the benchmark completes tokens itself, as a backend's poll would. */
class BenchLibOS extends BaseLibOS {
  name = 'bench';
  capabilities = new Set();
  poll() {}
  setWakeups() {}
  doClose() {}
  doPush() {}
  doPop() {}
  doShutdown() {}

  issuePop(qd) {
    return this.tokens.issue(qd, Opcode.POP);
  }

  /** Completes a pop the way catnap's record walk does: one result object per completion. */
  completePop(qt, bytes) {
    const sga = { segments: [bytes] };
    if (!values.copy && typeof this.tokens.completeOwned === 'function')
      this.tokens.completeOwned(qt, { opcode: Opcode.POP, qd: 0, qt, ret: 0, sga });
    else this.tokens.complete(qt, { opcode: Opcode.POP, ret: 0, sga });
  }
}

const bytes = new Uint8Array(64);

/** One pending pop per connection; each step completes `batch` of them and takes them with waitNextN. */
async function waitNextN(batch, sleeping) {
  const libos = new BenchLibOS();
  const pending = [];
  for (let qd = 1; qd <= OUTSTANDING; qd++) pending.push(libos.issuePop(qd));
  let next = 0;
  let done = 0;
  const start = process.hrtime.bigint();
  while (done < OPS) {
    // sleeping: waitNextN is outstanding when the completions land (the wake-up path);
    // otherwise they are already there when it is called (the ready path).
    const waiting = sleeping ? libos.waitNextN(batch) : undefined;
    for (let i = 0; i < batch; i++) {
      libos.completePop(pending[next], bytes);
      next = (next + 1) % OUTSTANDING;
    }
    const results = await (waiting ?? libos.waitNextN(batch));
    for (const r of results) {
      const qd = r.qd;
      pending[qd - 1] = libos.issuePop(qd);
    }
    done += results.length;
  }
  const ns = Number(process.hrtime.bigint() - start) / done;
  await libos.shutdown();
  return ns;
}

/** Per-operation wait(qt) on one of many outstanding tokens, completed while waiting. */
async function waitOne() {
  const libos = new BenchLibOS();
  const pending = [];
  for (let qd = 1; qd <= OUTSTANDING; qd++) pending.push(libos.issuePop(qd));
  let next = 0;
  const start = process.hrtime.bigint();
  for (let done = 0; done < OPS; done++) {
    const qt = pending[next];
    const waiting = libos.wait(qt);
    libos.completePop(qt, bytes);
    await waiting;
    pending[next] = libos.issuePop(next + 1);
    next = (next + 1) % OUTSTANDING;
  }
  const ns = Number(process.hrtime.bigint() - start) / OPS;
  await libos.shutdown();
  return ns;
}

const cases = {
  'waitNextN ready, 1 per call': () => waitNextN(1, false),
  'waitNextN ready, 16 per call': () => waitNextN(16, false),
  'waitNextN sleeping, 1 per call': () => waitNextN(1, true),
  'wait(qt) sleeping': () => waitOne(),
};

console.log(
  `${OUTSTANDING} outstanding pops, ${OPS} completions per case, ${ROUNDS} rounds, results ${values.copy ? 'copied' : 'kept'}`,
);
for (const [name, run] of Object.entries(cases)) {
  if (!name.includes(values.only)) continue;
  await run(); // warm-up
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await run());
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)];
  console.log(
    `${name.padEnd(32)} ${median.toFixed(0).padStart(6)} ns/completion (runs: ${runs.map((x) => x.toFixed(0)).join(', ')})`,
  );
}
