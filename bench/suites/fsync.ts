// etcd's WAL pattern on the disk under test: sequential 2,300-byte writes, each
// followed by fdatasync, timed natively. With fio installed (and the profile
// asking for it) the same recipe runs through fio on the same directory, so the
// two can be compared side by side.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { check, loadNative } from '../../src/native/index.js';
import { exec } from '../../src/host/exec.js';
import { onCleanup } from '../../src/host/cleanup.js';
import { summarize } from '../../src/stats/summary.js';
import type { Suite, SuiteContext } from '../../src/bench/types.js';
import type { Measurement } from '../../src/results/types.js';

const ETCD_GUIDANCE_P99_MS = 10;

function base(ctx: SuiteContext, name: string, tool: string): Omit<Measurement, 'status'> {
  const { blockBytes, writes } = ctx.profile.fsync;
  return { suite: 'fsync', name, unit: 'ms', params: { tool, blockBytes, writes, dataDir: ctx.dataDir } };
}

/** fio's JSON: sync (fdatasync) latency percentiles in ns, under jobs[0].sync.lat_ns. */
export function fioSyncPercentilesMs(fioJson: string): { p50: number; p90: number; p99: number; max: number; n: number } {
  const doc = JSON.parse(fioJson) as { jobs?: { sync?: { lat_ns?: { N?: number; max?: number; percentile?: Record<string, number> } } }[] };
  const lat = doc.jobs?.[0]?.sync?.lat_ns;
  const pct = lat?.percentile;
  if (!lat || !pct) throw new Error('fio output has no jobs[0].sync.lat_ns percentiles');
  const at = (k: string): number => (pct[k] ?? Number.NaN) / 1e6;
  return { p50: at('50.000000'), p90: at('90.000000'), p99: at('99.000000'), max: (lat.max ?? Number.NaN) / 1e6, n: lat.N ?? 0 };
}

async function nativeProbe(ctx: SuiteContext, dir: string): Promise<Measurement> {
  const m = base(ctx, 'wal-fdatasync', 'native');
  const n = loadNative();
  if (!n.ok) return { ...m, status: 'skipped', reason: n.reason };
  const { blockBytes, writes } = ctx.profile.fsync;
  try {
    const ns = check('fdatasync probe', n.addon.fdatasyncProbe(join(dir, 'wal.probe'), blockBytes, writes));
    const samples = Array.from(ns, (x) => x / 1e6);
    const summary = summarize(samples);
    return { ...m, status: 'ok', samples, summary, extra: { guidanceP99Ms: ETCD_GUIDANCE_P99_MS, meetsGuidance: summary.p99 < ETCD_GUIDANCE_P99_MS } };
  } catch (err) {
    return { ...m, status: 'failed', reason: (err as Error).message };
  }
}

async function fioProbe(ctx: SuiteContext, dir: string): Promise<Measurement> {
  const m = base(ctx, 'wal-fdatasync', 'fio');
  if (!ctx.profile.fsync.fioCrossCheck) return { ...m, status: 'skipped', reason: `profile ${ctx.profile.name} does not run the fio cross-check` };
  if (!ctx.caps.fio.available) return { ...m, status: 'skipped', reason: ctx.caps.fio.reason };
  const { blockBytes, writes } = ctx.profile.fsync;
  const r = await exec('fio', ['--name=kscale-wal', `--directory=${dir}`, '--rw=write', '--ioengine=sync', '--fdatasync=1',
    `--size=${blockBytes * writes}`, `--bs=${blockBytes}`, '--output-format=json'], { timeoutMs: 600_000 });
  if (r.code !== 0) return { ...m, status: 'failed', reason: `fio exited ${r.code}: ${r.stderr.trim()}` };
  try {
    const p = fioSyncPercentilesMs(r.stdout);
    // fio reports percentiles, not raw samples; keep its numbers as they are.
    return { ...m, status: 'ok', extra: { fio: p, guidanceP99Ms: ETCD_GUIDANCE_P99_MS, meetsGuidance: p.p99 < ETCD_GUIDANCE_P99_MS } };
  } catch (err) {
    return { ...m, status: 'failed', reason: (err as Error).message };
  }
}

export const fsyncSuite: Suite = {
  name: 'fsync',
  description: "etcd's WAL write+fdatasync pattern on the data disk (native probe, fio cross-check)",
  steps: () => 2,
  async run(ctx) {
    const dir = mkdtempSync(join(ctx.dataDir, `${ctx.prefix}-fsync-`));
    const removeDir = onCleanup(`fsync dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    try {
      ctx.progress.step('fsync: native fdatasync probe');
      const native = await nativeProbe(ctx, dir);
      ctx.record(native);
      ctx.progress.step('fsync: fio cross-check');
      const fio = await fioProbe(ctx, dir);
      if (fio.status === 'ok' && native.status === 'ok' && native.summary) {
        const fioP99 = (fio.extra?.fio as { p99: number }).p99;
        fio.extra = { ...fio.extra, nativeP99Ms: native.summary.p99, p99Ratio: native.summary.p99 / fioP99 };
      }
      ctx.record(fio);
    } finally {
      await removeDir();
    }
  },
};
