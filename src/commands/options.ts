// Parsing helpers for CLI values: every bad value is an InputError naming the flag.
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
