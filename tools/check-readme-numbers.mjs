#!/usr/bin/env node
// Checks that performance numbers in READMEs say where they came from: every
// section whose heading names measurements (Measured, Performance, Numbers,
// Benchmarks) must give the date of the run (YYYY-MM-DD) and the commit it ran
// at ("commit 1a2b3c4"), and the commit must exist in this repository's history.
// Numbers without both cannot be reproduced or told apart from stale ones.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const HEADING = /^(#{2,3})\s+(.*)$/;
const MEASURED = /\b(measured|performance|numbers|benchmarks)\b/i;
const DATE = /\b20\d\d-[01]\d-[0-3]\d\b/;
const COMMIT = /\bcommit `?([0-9a-f]{7,40})`?/;

const files = [join(root, 'README.md')];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const f = join(root, 'packages', pkg, 'README.md');
  if (existsSync(f)) files.push(f);
}

const haveGit =
  spawnSync('git', ['rev-parse', '--git-dir'], { cwd: root, stdio: 'ignore' }).status === 0;
const problems = [];
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  let section;
  const sections = [];
  for (const [i, line] of lines.entries()) {
    const m = HEADING.exec(line);
    if (m) {
      section = { title: m[2], line: i + 1, text: '' };
      sections.push(section);
    } else if (section) section.text += `${line}\n`;
  }
  for (const s of sections) {
    if (!MEASURED.test(s.title)) continue;
    const where = `${file.slice(root.length)}:${s.line} (${s.title})`;
    if (!DATE.test(s.text)) problems.push(`${where}: no date (YYYY-MM-DD) of the run`);
    const commit = COMMIT.exec(s.text);
    if (!commit) problems.push(`${where}: no "commit <hash>" the numbers were measured at`);
    else if (
      haveGit &&
      spawnSync('git', ['cat-file', '-e', `${commit[1]}^{commit}`], { cwd: root, stdio: 'ignore' })
        .status !== 0
    )
      problems.push(`${where}: commit ${commit[1]} is not in this repository's history`);
  }
}
if (problems.length > 0) {
  console.error('README numbers without their origin:');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(
  `README numbers: ${files.length} READMEs checked, every measured section is dated and pinned to a commit`,
);
