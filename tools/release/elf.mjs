// What a prebuilt addon asks of the host, read from its ELF dynamic section with
// binutils: the glibc symbol versions it needs and the shared libraries it names.
import { execFileSync } from 'node:child_process';
import { GLIBC_FLOOR } from './targets.mjs';

/** Libraries every Linux process has: the C library and its parts, and the dynamic loader. */
const BASE =
  /^(libc|libm|libpthread|libdl|librt)\.so\.\d+$|^ld-linux[-\w.]*\.so\.\d+$|^libc\.musl-[\w]+\.so\.1$/;
/** What catnip's prebuilt may need besides: the distribution's DPDK 22.11 and what it pulls in. */
const DPDK = /^librte_\w+\.so\.23$/;

function versionCompare(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function elfInfo(file) {
  const dynsym = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
  const glibc = [...new Set([...dynsym.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]))].sort(
    versionCompare,
  );
  const dynamic = execFileSync('readelf', ['-d', '-h', file], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
    (m) => m[1],
  );
  const machine = /Machine:\s+(.+)/.exec(dynamic)?.[1]?.trim();
  // Undefined, unversioned, not weak: resolved from the process at load (or first call).
  const unversioned = [
    ...dynsym.matchAll(/^[0-9a-f]+\s+(\w?)\s+\w*\s+\*UND\*\s+[0-9a-f]+\s+Base\s+(\S+)$/gm),
  ]
    .filter((m) => m[1] !== 'w')
    .map((m) => m[2]);
  return { glibc, newestGlibc: glibc.at(-1), needed, machine, unversioned };
}

/** Everything wrong with a prebuilt for `pkg`; empty when it runs wherever Node 22 runs. */
export function elfProblems(file, pkg) {
  const info = elfInfo(file);
  const problems = [];
  const tooNew = info.glibc.filter((v) => versionCompare(v, GLIBC_FLOOR) > 0);
  if (tooNew.length > 0) problems.push(`needs GLIBC_${tooNew.join(', GLIBC_')} (> ${GLIBC_FLOOR})`);
  // Node itself provides Node-API and libuv; anything else unversioned is a libc function the
  // target glibc lacks (Zig's 2.28 stubs leave it unresolved): it fails when first called.
  const foreign = info.unversioned.filter((name) => !/^(napi_|node_api_|uv_)/.test(name));
  if (foreign.length > 0)
    problems.push(
      `calls ${foreign.join(', ')}, not in glibc ${GLIBC_FLOOR} (fails when first called)`,
    );
  for (const lib of info.needed) {
    if (BASE.test(lib)) continue;
    if (pkg === 'catnip' && DPDK.test(lib)) continue;
    problems.push(
      `links ${lib}${/libstdc\+\+|libc\+\+|libgcc_s/.test(lib) ? ' (the C++ runtime must be linked statically)' : ''}`,
    );
  }
  return { info, problems };
}
