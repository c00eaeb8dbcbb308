#!/usr/bin/env node
// `npx demi doctor [--json]`: which LibOSes can run here, and what the others need.
import { diagnose, formatReport } from './doctor.js';

const [command, ...flags] = process.argv.slice(2);
if (command !== 'doctor') {
  console.error('usage: demi doctor [--json]');
  process.exit(2);
}
const reports = diagnose();
console.log(flags.includes('--json') ? JSON.stringify(reports, null, 2) : formatReport(reports));
// A LibOS whose binary does not load is a broken install; missing privileges are not.
process.exit(reports.some((r) => r.binary === undefined) ? 1 : 0);
