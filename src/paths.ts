// The package root, found by walking up to kscale's package.json, so paths to
// schema/, build/ and bpf/ work both from src/ (vitest) and from dist/src/ (the CLI).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kscale') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('kscale package root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const PACKAGE_ROOT = findRoot();
