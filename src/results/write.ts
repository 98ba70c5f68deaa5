// Validate a results document against the JSON Schema, then write it atomically
// (temp file in the same directory + rename), so a reader never sees a partial file.
import { mkdirSync, readFileSync, renameSync, writeFileSync, unlinkSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { RunResults } from './types.js';

export const SCHEMA_PATH = join(PACKAGE_ROOT, 'schema', 'results-v1.schema.json');

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object,
  );
  return validator;
}

/** Schema problems as readable lines; empty when the document is valid. */
export function schemaErrors(doc: unknown): string[] {
  const v = validate();
  if (v(doc)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
}

/** Write `text` to `path` so that `path` is either absent, the old file, or the whole new file. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
}

export function writeResults(path: string, results: RunResults): void {
  const problems = schemaErrors(results);
  if (problems.length > 0) {
    throw new Error(`results do not match ${SCHEMA_PATH}; not written:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  writeFileAtomic(path, JSON.stringify(results, null, 2) + '\n');
}
