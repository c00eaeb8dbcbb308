import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LoadedAddon, loadAddon, loadedAddon, platformTag } from '../addon.js';
import { KNOWN_LIBOSES } from '../registry.js';
import { type Problem, runtimeProblems } from './checks.js';

/** What `demi doctor` found about one installed LibOS. */
export interface LibOSReport {
  name: string;
  version: string;
  /** The addon it loaded, or why none did. */
  binary?: LoadedAddon;
  loadError?: string;
  problems: Problem[];
  ready: boolean;
}

/**
 * Every shipped LibOS installed where `cwd`'s application resolves packages: whether
 * its addon loads here, which file it loaded, and what else it needs on this host.
 */
export function diagnose(cwd: string = process.cwd()): LibOSReport[] {
  const requireFromApp = createRequire(join(cwd, 'package.json'));
  const reports: LibOSReport[] = [];
  for (const name of KNOWN_LIBOSES) {
    let manifestPath: string;
    try {
      manifestPath = requireFromApp.resolve(`@demi/${name}/package.json`);
    } catch {
      continue;
    }
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
    const report: LibOSReport = { name, version: manifest.version, problems: [], ready: false };
    try {
      const addon = loadAddon<Record<string, unknown>>({
        name,
        // The loader looks beside dist/ as the package's own code does.
        fromUrl: pathToFileURL(join(manifestPath, '..', 'dist', 'index.js')).href,
        envVar: `DEMI_${name.toUpperCase()}_ADDON`,
      });
      report.binary = loadedAddon(name);
      report.problems = runtimeProblems(name, addon);
    } catch (err) {
      report.loadError = (err as Error).message;
    }
    report.ready =
      report.binary !== undefined && report.problems.every((p) => p.missing.includes('optional'));
    reports.push(report);
  }
  return reports;
}

/** The report as text: one block per LibOS. */
export function formatReport(reports: LibOSReport[]): string {
  const lines = [`demi doctor: ${platformTag()}, Node ${process.versions.node}`];
  if (reports.length === 0)
    lines.push('No LibOS is installed: npm install @demi/catnap (kernel sockets)');
  for (const r of reports) {
    lines.push('', `@demi/${r.name} ${r.version}: ${r.ready ? 'ready' : 'not ready'}`);
    if (r.binary !== undefined)
      lines.push(`  binary: ${r.binary.source} (${r.binary.platform}) ${r.binary.path}`);
    if (r.loadError !== undefined)
      lines.push(`  does not load: ${r.loadError.replaceAll('\n', '\n    ')}`);
    for (const p of r.problems) lines.push(`  missing: ${p.missing}`, `    fix: ${p.fix}`);
  }
  return lines.join('\n');
}
