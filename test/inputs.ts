// Test helpers for input handling: files to read, and the InputError a call throws.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';

/** The InputError a call throws: the test fails when it returns, or throws anything else. */
export function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

/** `content` written to a file called `name` in a fresh temporary directory; its path. */
export function tmpFile(name: string, content: string | Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kscale-test-')), name);
  writeFileSync(path, content);
  return path;
}
