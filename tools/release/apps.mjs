// The applications the registry round trip installs: for each backend, an echo
// through init() (no DEMI_LIBOS: the app depends on that one LibOS) as an ES
// module and as CommonJS, and a strict TypeScript consumer.

/** The echo, shared by both module formats: `core` is what the app imported. */
const ECHO_BODY = `
  const { init, AF_INET, SOCK_STREAM, DemiError } = core;
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const message = 'hello from ' + format;
  let echoed;
  let libos;
  if (process.env.DEMI_E2E_PIPES === '1') {
    libos = await init();
    const peer = await init();
    const name = 'demi-e2e-' + process.pid;
    const mine = libos.createPipe(name);
    const theirs = peer.openPipe(name);
    await peer.wait(peer.push(theirs, { segments: [enc.encode(message)] }));
    const got = await libos.wait(libos.pop(mine));
    await libos.wait(libos.push(mine, got.sga));
    echoed = dec.decode((await peer.wait(peer.pop(theirs))).sga.segments[0]);
    peer.close(theirs);
    libos.close(mine);
    await peer.shutdown();
  } else {
    libos = await init();
    const port = 20000 + (process.pid % 20000);
    const listener = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(listener, { address: '127.0.0.1', port });
    libos.listen(listener, 4);
    const client = libos.socket(AF_INET, SOCK_STREAM);
    const [accepted] = await Promise.all([
      libos.wait(libos.accept(listener)),
      libos.wait(libos.connect(client, { address: '127.0.0.1', port })),
    ]);
    const server = accepted.accepted.qd;
    await libos.wait(libos.push(client, { segments: [enc.encode(message)] }));
    const got = await libos.wait(libos.pop(server));
    await libos.wait(libos.push(server, got.sga));
    echoed = dec.decode((await libos.wait(libos.pop(client))).sga.segments[0]);
  }
  // The backend's errors are the app's DemiError class: one core in the process.
  let sameClass = false;
  try {
    libos.close(987654);
  } catch (err) {
    sameClass = err instanceof DemiError && err.code === 'EBADF';
  }
  await libos.shutdown();
  console.log(JSON.stringify({ libos: libos.name, echoed, sameClass }));
`;

export const ECHO_MJS = `const format = 'esm';
const core = await import('@demi/core');
${ECHO_BODY}`;

export const ECHO_CJS = `const format = 'cjs';
const core = require('@demi/core');
(async () => {
${ECHO_BODY}
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/** catpowder over AF_PACKET: serves one kernel connection in its namespace, configured by the environment. */
export const RAW_ECHO_MJS = `import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
const libos = await init();
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: process.env.DEMIKERNEL_LOCAL_IPV4_ADDR, port: 7777 });
libos.listen(listener, 4);
console.log('ready ' + libos.name);
const { accepted } = await libos.wait(libos.accept(listener));
let bytes = 0;
for (;;) {
  const r = await libos.wait(libos.pop(accepted.qd));
  if (r.opcode !== Opcode.POP || r.sga.segments[0].byteLength === 0) break;
  bytes += r.sga.segments[0].byteLength;
  await libos.wait(libos.push(accepted.qd, r.sga));
}
await libos.wait(libos.asyncClose(accepted.qd));
console.log(JSON.stringify({ served: bytes }));
await libos.shutdown();
`;

/** A strict TypeScript consumer of core and one backend. */
export function consumerTs(backend) {
  return `import { DemiError, init, type LibOS, type QResult } from '@demi/core';
import * as backend from '@demi/${backend}';

const libos: LibOS = await init({ libos: '${backend}' });
const check = (r: QResult): number => r.ret;
const err: DemiError = new DemiError('EINVAL', 'typed');
const exported: string[] = Object.keys(backend);
console.log(libos.name, check, err.code, exported.length);
`;
}

export const TSCONFIG = (typeRoots, files) =>
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [typeRoots],
      },
      files,
    },
    null,
    2,
  );
