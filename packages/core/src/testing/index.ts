import { appendFileSync } from 'node:fs';
import { describe, it } from 'vitest';

/**
 * Suites that need root, a kernel feature or a device. When the requirement is
 * missing they are skipped and logged (tools/test.mjs prints every skip with its
 * reason); with DEMI_REQUIRE_PRIVILEGED=1 a missing requirement fails instead.
 */
export function describePrivileged(
  title: string,
  missing: () => string | undefined,
  body: () => void,
): void {
  const reason = missing();
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  if (process.env.DEMI_REQUIRE_PRIVILEGED === '1') {
    describe(title, () => {
      it('has what it needs (DEMI_REQUIRE_PRIVILEGED=1 forbids skipping)', () => {
        throw new Error(`${title}: cannot run: ${reason}`);
      });
    });
    return;
  }
  skipLogged(title, reason, body);
}

/**
 * A suite that runs only when something is present (a file, a tool) that is not
 * a privilege: when `missing()` names a reason it is skipped and logged like
 * describePrivileged's skips, never silently (use it instead of describe.runIf).
 */
export function describeIf(
  title: string,
  missing: () => string | undefined,
  body: () => void,
): void {
  const reason = missing();
  if (reason === undefined) describe(title, body);
  else skipLogged(title, reason, body);
}

function skipLogged(title: string, reason: string, body: () => void): void {
  const log = process.env.DEMI_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ suite: title, reason })}\n`);
  describe.skip(`${title} (skipped: ${reason})`, body);
}

/** Why this process cannot do privileged networking, or undefined if it can. */
export function missingRoot(): string | undefined {
  return process.getuid?.() === 0
    ? undefined
    : 'needs root (CAP_NET_ADMIN/CAP_NET_RAW); run as root';
}
