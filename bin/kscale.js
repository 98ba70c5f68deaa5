#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by scripts/setup.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('kscale: not built yet (dist/src/cli.js missing); run "npm run setup" first\n');
  process.exit(2);
}
// Node itself needs a few hundred descriptors to load the CLI's modules; below
// that it fails with misleading "module not found" errors, so check first.
const MIN_OPEN_FILES = 512;
try {
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (soft && soft !== 'unlimited' && Number(soft) < MIN_OPEN_FILES) {
    process.stderr.write(`kscale: the open-files limit is ${soft}; kscale needs at least ${MIN_OPEN_FILES} (raise it, e.g. "ulimit -n 4096")\n`);
    process.exit(1);
  }
} catch {
  /* no /proc: not Linux, and the kernel measurements will say so */
}
let main;
try {
  ({ main } = await import(cli));
} catch (err) {
  // Loading the CLI is the first thing a too-low file-descriptor limit breaks; say so in one line.
  if (err && err.code === 'EMFILE') {
    process.stderr.write('kscale: too many open files while starting (the open-files limit is too low); raise it, e.g. "ulimit -n 4096"\n');
    process.exit(1);
  }
  throw err;
}
process.exitCode = await main(process.argv.slice(2));
