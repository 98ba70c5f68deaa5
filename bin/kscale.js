#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by scripts/setup.mjs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('kscale: not built yet (dist/cli.js missing); run "npm run setup" first\n');
  process.exit(2);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
