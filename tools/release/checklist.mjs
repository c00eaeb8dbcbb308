// The pass/fail bookkeeping of the release scripts that print 'N passed, N failed'.

/** A list of named checks: each runs at once, prints ok or FAIL, and is counted. */
export class Checklist {
  passed = 0;
  failed = 0;

  check(title, fn) {
    try {
      fn();
      this.passed++;
      console.log(`  ok   ${title}`);
    } catch (err) {
      this.failed++;
      console.log(
        `  FAIL ${title}\n       ${String(err.message ?? err).replaceAll('\n', '\n       ')}`,
      );
    }
  }

  /** Prints the totals and exits: non-zero when anything failed. */
  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed > 0 ? 1 : 0);
  }
}
