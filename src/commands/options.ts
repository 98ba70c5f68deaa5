// Parsing helpers for CLI values: every bad value is an InputError naming the flag.
import { accessSync, constants, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** "100,1000,10k" → [100, 1000, 10000]; each a positive integer ≤ max. */
export function parseSizeList(flag: string, text: string, max: number): number[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InputError(`--${flag}`, 'expected a comma-separated list of positive integers');
  return items.map((item) => parseSize(flag, item, max));
}

export function parseSize(flag: string, text: string, max: number, min = 1): number {
  const m = /^(\d+)(k)?$/i.exec(text.trim());
  const value = m ? Number(m[1]) * (m[2] ? 1000 : 1) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InputError(`--${flag}`, `"${text}" is not an integer ≥ ${min}`);
  }
  if (value > max) throw new InputError(`--${flag}`, `${value} is more than the supported maximum ${max}`);
  return value;
}

export function parseList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new InputError(`--${flag}`, `unknown value "${item}" (known: ${allowed.join(', ')})`);
    }
  }
  if (items.length === 0) throw new InputError(`--${flag}`, `expected one or more of ${allowed.join(', ')}`);
  return items as T[];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * An output file the command will write at the end of a run: checked before
 * the run, so a typo in its path costs nothing and names the flag (exit 2),
 * not an ENOENT after minutes of work. Its directory must exist: kscale does
 * not create directories the user did not name.
 */
export function checkOutputFile(flag: string, path: string): string {
  const full = resolve(path);
  if (statOrNull(full)?.isDirectory() === true) throw new InputError(`--${flag}`, `${full} is a directory; give a file path`);
  const dir = dirname(full);
  const d = statOrNull(dir);
  if (d === null) throw new InputError(`--${flag}`, `directory ${dir} does not exist`);
  if (!d.isDirectory()) throw new InputError(`--${flag}`, `${dir} is not a directory`);
  if (!writable(dir)) throw new InputError(`--${flag}`, `cannot write into ${dir} (permission denied)`);
  return full;
}

/**
 * An output directory the command creates if missing (with its parents): a
 * path that is, or runs through, something other than a directory is bad
 * input naming the flag, caught before the run starts.
 */
export function checkOutputDir(flag: string, path: string): string {
  const full = resolve(path);
  for (let p = full; ; p = dirname(p)) {
    const s = statOrNull(p);
    if (s !== null) {
      if (!s.isDirectory()) throw new InputError(`--${flag}`, p === full ? `${full} is not a directory` : `${full}: ${p} is not a directory`);
      if (!writable(p)) throw new InputError(`--${flag}`, `cannot write into ${p} (permission denied)`);
      return full;
    }
    if (dirname(p) === p) return full;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
