// Writes core's ES module entry as a re-export of its CommonJS build, so an app
// that imports core and a backend that requires it (or the other way round)
// share one module instance: one LibOS registry, one DemiError class.
import { writeFileSync } from 'node:fs';

const note = '// Re-exports the CommonJS build: one instance of core per process.\n';
writeFileSync(new URL('./dist/index.js', import.meta.url), `${note}export * from './index.cjs';\n`);
writeFileSync(new URL('./dist/index.d.ts', import.meta.url), `export * from './index.cjs';\n`);
