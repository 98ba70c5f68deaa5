// A way to collect garbage on demand, for benchmarks that time one big
// allocation-heavy operation after another: without it, the garbage of the
// previous repeat (hundreds of MiB for a 50k-Service program) is collected
// inside the next repeat's timing, and which repeat pays depends on the
// heap's history (the render suite measured nftables 50k×10 at 2.8 s in the
// bench process and 1.6 s in a fresh one).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let cached: (() => void) | null | undefined;

/**
 * The global gc() — from `--expose-gc` when the process was started with it,
 * otherwise exposed at run time (V8 reads the flag when a new context is
 * created). Null when neither works.
 */
export function collector(): (() => void) | null {
  if (cached !== undefined) return cached;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (cached = existing);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    cached = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    cached = null;
  }
  return cached;
}
