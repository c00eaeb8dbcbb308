// Shared by the Node client scripts: argument parsing, progress lines, and
// writing samples in the format lib/children.mjs reads.
import { writeFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';

export function clientArgs(extra = {}) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '1000' },
      iterations: { type: 'string', default: '10000' },
      out: { type: 'string' },
      ...extra,
    },
    allowPositionals: true,
  });
  return {
    ...values,
    size: Number(values.size),
    warmup: Number(values.warmup),
    iterations: Number(values.iterations),
  };
}

/** Reports progress (synchronously: a busy-polling client never yields to the event loop). */
export function progress(fraction) {
  writeSync(2, `progress ${fraction.toFixed(3)}\n`);
}

/** Every 1/20 of the run, from the measured iteration index. */
export function progressStep(iterations) {
  return Math.max(1, Math.floor(iterations / 20));
}

export function writeSamples(out, samples) {
  writeFileSync(out, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
}
