// etcd's WAL pattern on the disk under test: sequential 2,300-byte writes, each
// followed by fdatasync, timed natively. With fio installed (and the profile
// asking for it) the same recipe runs through fio on the same directory, so the
// two can be compared side by side. The two probes take turns in rounds
// (native, fio, native, fio…) and each side's rounds are pooled, so a disk
// that is busier in one minute than the next (a shared VM) weighs on both
// alike instead of on whichever probe ran then.
import { join } from 'node:path';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { check, loadNative } from '../../src/native/index.js';
import { exec } from '../../src/host/exec.js';
import { onCleanup } from '../../src/host/cleanup.js';
import { summarize } from '../../src/stats/summary.js';
import type { Suite, SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';

const ETCD_GUIDANCE_P99_MS = 10;
/** The benchmark's target: the native probe's p99 within 20% of fio's on the same directory. */
export const AGREEMENT_TOLERANCE = 0.2;

function base(ctx: SuiteContext, name: string, tool: string): Omit<Measurement, 'status'> {
  const { blockBytes, writes } = ctx.profile.fsync;
  return { suite: 'fsync', name, unit: 'ms', params: { tool, blockBytes, writes, dataDir: ctx.dataDir } };
}

/** Rounds the probes alternate in when both run; one round each otherwise. */
export const INTERLEAVED_ROUNDS = 4;

/** `writes` split into `rounds` near-equal parts (the first ones take the remainder). */
export function roundSizes(writes: number, rounds: number): number[] {
  const r = Math.max(1, Math.min(rounds, writes));
  return Array.from({ length: r }, (_, i) => Math.floor(writes / r) + (i < writes % r ? 1 : 0));
}

type FioLat = { N?: number; max?: number; percentile?: Record<string, number>; bins?: Record<string, number> };

function fioSyncLat(fioJson: string): FioLat | undefined {
  const doc = JSON.parse(fioJson) as { jobs?: { sync?: { lat_ns?: FioLat } }[] };
  return doc.jobs?.[0]?.sync?.lat_ns;
}

/** fio's json+ histogram of fdatasync latency: bin value (ns) → count, and the exact maximum. */
export function fioSyncBins(fioJson: string): { bins: Map<number, number>; maxNs: number } {
  const lat = fioSyncLat(fioJson);
  if (!lat?.bins) throw new Error('fio output has no jobs[0].sync.lat_ns.bins (needs --output-format=json+)');
  return { bins: new Map(Object.entries(lat.bins).map(([ns, c]) => [Number(ns), c])), maxNs: lat.max ?? Number.NaN };
}

/**
 * Percentiles of pooled fio bins the way fio reports them: the value of the bin
 * holding the ceil(q·N)-th smallest sample (fio's bins are within ~1.6% of the
 * true latency).
 */
export function binPercentilesMs(bins: ReadonlyMap<number, number>, maxNs: number): { p50: number; p90: number; p99: number; max: number; n: number } {
  const sorted = [...bins].sort((a, b) => a[0] - b[0]);
  const n = sorted.reduce((s, [, c]) => s + c, 0);
  const at = (q: number): number => {
    const rank = Math.max(1, Math.ceil((q / 100) * n));
    let seen = 0;
    for (const [ns, c] of sorted) {
      seen += c;
      if (seen >= rank) return ns / 1e6;
    }
    return Number.NaN;
  };
  return { p50: at(50), p90: at(90), p99: at(99), max: maxNs / 1e6, n };
}

/** fio's JSON: sync (fdatasync) latency percentiles in ns, under jobs[0].sync.lat_ns. */
export function fioSyncPercentilesMs(fioJson: string): { p50: number; p90: number; p99: number; max: number; n: number } {
  const lat = fioSyncLat(fioJson);
  const pct = lat?.percentile;
  if (!lat || !pct) throw new Error('fio output has no jobs[0].sync.lat_ns percentiles');
  const at = (k: string): number => (pct[k] ?? Number.NaN) / 1e6;
  return { p50: at('50.000000'), p90: at('90.000000'), p99: at('99.000000'), max: (lat.max ?? Number.NaN) / 1e6, n: lat.N ?? 0 };
}

/** One native round: a fresh file in `dir`, `writes` blocks; ms per write + fdatasync. */
function nativeRound(dir: string, blockBytes: number, writes: number, round: number): number[] {
  const n = loadNative();
  if (!n.ok) throw new Error(n.reason);
  const ns = check('fdatasync probe', n.addon.fdatasyncProbe(join(dir, `wal-r${round}.probe`), blockBytes, writes));
  return Array.from(ns, (x) => x / 1e6);
}

/** One fio round: etcd's documented recipe on `dir`, sized to this round; its json+ output. */
async function fioRound(dir: string, blockBytes: number, writes: number, round: number): Promise<string> {
  const r = await exec('fio', [`--name=kscale-wal-r${round}`, `--directory=${dir}`, '--rw=write', '--ioengine=sync', '--fdatasync=1',
    `--size=${blockBytes * writes}`, `--bs=${blockBytes}`, '--output-format=json+'], { timeoutMs: 600_000 });
  // fio leaves its data file behind; each round starts on a fresh one, as the native probe does.
  for (const f of readdirSync(dir)) if (f.startsWith(`kscale-wal-r${round}.`)) rmSync(join(dir, f), { force: true });
  if (r.code !== 0) throw new Error(`fio exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

function fioSkipReason(ctx: SuiteContext): string | undefined {
  if (!ctx.profile.fsync.fioCrossCheck) return `profile ${ctx.profile.name} does not run the fio cross-check`;
  if (!ctx.caps.fio.available) return ctx.caps.fio.reason;
  return undefined;
}

interface Probes {
  native: Measurement;
  fio: Measurement;
}

/** Native and fio rounds, alternating; a side that fails stops its own rounds, not the other's. */
async function runProbes(ctx: SuiteContext, dir: string): Promise<Probes> {
  const { blockBytes, writes } = ctx.profile.fsync;
  const fioSkip = fioSkipReason(ctx);
  const nativeLoad = loadNative();
  const rounds = roundSizes(writes, fioSkip === undefined && nativeLoad.ok ? INTERLEAVED_ROUNDS : 1);
  const samples: number[] = [];
  const bins = new Map<number, number>();
  let fioMaxNs = 0;
  const fioRounds: ReturnType<typeof fioSyncPercentilesMs>[] = [];
  let nativeError = nativeLoad.ok ? undefined : nativeLoad.reason;
  let fioError: string | undefined;
  for (const [i, size] of rounds.entries()) {
    if (i === 0 || i === Math.ceil(rounds.length / 2)) {
      ctx.progress.step(rounds.length === 1 ? 'fsync: native probe, then fio' : `fsync: native and fio, rounds ${i + 1}–${i === 0 ? Math.ceil(rounds.length / 2) : rounds.length} of ${rounds.length}`);
    }
    if (nativeError === undefined) {
      try {
        samples.push(...nativeRound(dir, blockBytes, size, i));
      } catch (err) {
        nativeError = (err as Error).message;
      }
    }
    if (fioSkip === undefined && fioError === undefined) {
      try {
        const out = await fioRound(dir, blockBytes, size, i);
        const { bins: b, maxNs } = fioSyncBins(out);
        for (const [ns, c] of b) bins.set(ns, (bins.get(ns) ?? 0) + c);
        fioMaxNs = Math.max(fioMaxNs, maxNs);
        fioRounds.push(fioSyncPercentilesMs(out));
      } catch (err) {
        fioError = (err as Error).message;
      }
    }
  }
  if (rounds.length === 1) ctx.progress.step('fsync: comparison');
  const interleaving = { rounds: rounds.length, writesPerRound: rounds };
  const nm = base(ctx, 'wal-fdatasync', 'native');
  let native: Measurement;
  if (nativeError !== undefined) native = { ...nm, status: nativeLoad.ok ? 'failed' : 'skipped', reason: nativeError };
  else {
    const summary = summarize(samples);
    native = { ...nm, status: 'ok', samples, summary, extra: { ...interleaving, guidanceP99Ms: ETCD_GUIDANCE_P99_MS, meetsGuidance: summary.p99 < ETCD_GUIDANCE_P99_MS } };
  }
  const fm = base(ctx, 'wal-fdatasync', 'fio');
  let fio: Measurement;
  if (fioSkip !== undefined) fio = { ...fm, status: 'skipped', reason: fioSkip };
  else if (fioError !== undefined) fio = { ...fm, status: 'failed', reason: fioError };
  else {
    // fio reports a histogram, not raw samples: the pooled bins give its percentiles.
    const p = binPercentilesMs(bins, fioMaxNs);
    fio = { ...fm, status: 'ok', extra: { fio: p, fioRounds, ...interleaving, guidanceP99Ms: ETCD_GUIDANCE_P99_MS, meetsGuidance: p.p99 < ETCD_GUIDANCE_P99_MS } };
  }
  return { native, fio };
}

interface Tail {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

/**
 * The side-by-side of the two probes. The native one times write + fdatasync,
 * fio's sync latency the fdatasync alone; a 2,300-byte write into the page
 * cache takes microseconds, far below what a p99 comparison resolves.
 */
export function compareProbes(native: Tail, fio: Tail, tolerance = AGREEMENT_TOLERANCE): Record<string, number | boolean> {
  const p99Ratio = native.p99 / fio.p99;
  return {
    nativeP50Ms: native.p50, fioP50Ms: fio.p50,
    nativeP99Ms: native.p99, fioP99Ms: fio.p99,
    nativeMaxMs: native.max, fioMaxMs: fio.max,
    nativeN: native.n, fioN: fio.n,
    p50Ratio: native.p50 / fio.p50,
    p99Ratio,
    tolerance,
    p99WithinTolerance: Math.abs(p99Ratio - 1) <= tolerance,
  };
}

export const fsyncSuite: Suite = {
  name: 'fsync',
  description: "etcd's WAL write+fdatasync pattern on the data disk (native probe and fio's run of the same recipe, interleaved)",
  steps: () => 2,
  async run(ctx) {
    const dir = mkdtempSync(join(ctx.dataDir, `${ctx.prefix}-fsync-`));
    const removeDir = onCleanup(`fsync dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    try {
      const { native, fio } = await runProbes(ctx, dir);
      ctx.record(native);
      const agreement = { ...base(ctx, 'wal-fdatasync-agreement', 'native-vs-fio'), unit: 'ratio' };
      if (fio.status === 'ok' && native.status === 'ok' && native.summary) {
        const cmp = compareProbes(native.summary, fio.extra?.fio as Tail);
        fio.extra = { ...fio.extra, ...cmp };
        ctx.record(fio);
        ctx.record({ ...agreement, status: 'ok', samples: [cmp.p99Ratio as number], summary: summarize([cmp.p99Ratio as number]), extra: cmp });
      } else {
        ctx.record(fio);
        const why = native.status !== 'ok' ? `native probe ${native.status}: ${native.reason ?? ''}` : `fio ${fio.status}: ${fio.reason ?? ''}`;
        ctx.record({ ...agreement, status: 'skipped', reason: `no side-by-side: ${why}` });
      }
    } finally {
      await removeDir();
    }
  },
};
