import { defineConfig, type Options } from 'tsup';

// One implementation for CommonJS and ES modules alike: the main entry is built
// once, as CommonJS, and dist/index.js only re-exports it (see build-esm-entry.mjs),
// so `require` and `import` share one LibOS registry and one DemiError class.
// The conformance and testing entries are built for both formats, with every
// import of core itself pointing at '@demi/core' instead of a bundled copy.
const shared: Options = { dts: true, shims: true, target: 'node22' };

const coreExternal = {
  name: 'core-external',
  setup(build: { onResolve: (o: { filter: RegExp }, f: () => object) => void }) {
    build.onResolve(
      { filter: /^\.\.\/(addon|constants|errors|types|validate|config|registry)\.js$/ },
      () => ({
        path: '@demi/core',
        external: true,
      }),
    );
  },
};

export default defineConfig([
  { ...shared, entry: { index: 'src/index.ts' }, format: ['cjs'] },
  {
    ...shared,
    entry: {
      'conformance/index': 'src/conformance/index.ts',
      'testing/index': 'src/testing/index.ts',
      doctor: 'src/doctor/cli.ts',
    },
    format: ['esm', 'cjs'],
    external: ['vitest', '@demi/core'],
    esbuildPlugins: [coreExternal],
    onSuccess: 'node build-esm-entry.mjs',
  },
]);
