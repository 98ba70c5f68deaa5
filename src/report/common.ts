// Small pure helpers every report, plan and gate output shares: number
// formatting, parameter text, the host provenance line, unit conversion.
import type { HostProvenance, Measurement, ParamValue, RunResults } from '../results/types.js';

/** Three significant-ish digits: 1234 → "1234", 12.345 → "12.35", 0.01234 → "0.0123". */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x === 0 ? '0' : x.toPrecision(3);
}

/** Parameters as "k=v, k=v", without the host-specific data directory. */
export function paramsText(params: Record<string, ParamValue>): string {
  return Object.entries(params).filter(([k]) => k !== 'dataDir').map(([k, v]) => `${k}=${v}`).join(', ');
}

/** One line naming the machine the numbers come from. */
export function hostLine(h: HostProvenance): string {
  const virt = h.virtualization.virtual ? `, virtual (${h.virtualization.host || 'yes'})` : '';
  return `${h.cpu.brand} ×${h.cpu.cores}, ${(h.memory.totalBytes / 2 ** 30).toFixed(1)} GiB, ${h.os.distro}, kernel ${h.os.kernel}${virt}`;
}

export function runLine(r: RunResults): string {
  return `run ${r.runId} (profile ${r.profile}, seed ${r.seed}, git ${r.gitSha?.slice(0, 12) ?? 'unknown'})`;
}

const SCALE: Record<string, number> = { ns: 1e-9, 'µs': 1e-6, us: 1e-6, ms: 1e-3, s: 1 };

/**
 * Factor turning a value in `from` into `to` for time units, matching on the
 * leading time unit ("ns", "µs/service" → "µs"); undefined when either is not a time unit.
 */
export function timeFactor(from: string, to: string): number | undefined {
  const head = (u: string): number | undefined => SCALE[/^(ns|µs|us|ms|s)\b/.exec(u)?.[1] ?? ''];
  const f = head(from);
  const t = head(to);
  return f === undefined || t === undefined ? undefined : f / t;
}

/** Number-valued parameter, also accepting numeric strings. */
export function numParam(m: Measurement, key: string): number | undefined {
  const v = m.params[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function strParam(m: Measurement, key: string): string | undefined {
  const v = m.params[key];
  return v === undefined ? undefined : String(v);
}

/** Markdown table cell text: no pipes or newlines. */
export function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The first line of a reason, bounded, for tables. */
export function shortReason(reason: string | undefined, max = 200): string {
  const line = (reason ?? '').split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
