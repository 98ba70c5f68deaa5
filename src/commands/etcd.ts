// `kscale etcd`: the etcd suite's measurements with a profile's sizes, against
// an etcd kscale starts (data dir on --etcd-data-dir, the disk under test) or
// the user's cluster (--etcd-endpoints, TLS files), printed or as JSON.
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { probeCapabilities } from '../host/capabilities.js';
import { claimPrefix } from '../host/owner.js';
import { runCleanup } from '../host/cleanup.js';
import { progressFor } from '../bench/progress.js';
import { newRunId } from '../bench/runner.js';
import { etcdSteps, runEtcdMeasurements } from '../etcd/measure.js';
import type { ExternalEtcd } from '../etcd/measure.js';
import { loadTls, parseEndpoints } from '../etcd/client.js';
import { isProfileName, PROFILES } from '../../bench/profiles.js';
import { ETCD_SIZES } from '../../bench/suites/etcd.js';
import type { Measurement } from '../results/types.js';
import { parseSize, str } from './options.js';
import type { Command } from '../cli.js';

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

/** One human line per measurement. */
export function etcdLine(m: Measurement): string {
  const p = m.params;
  const what = p.op === 'put' ? `c=${p.concurrency} ${p.preloaded ? `preloaded ${p.keyspacePods}` : 'empty'}`
    : p.op === 'watch' ? `W=${p.watchers} from ${p.from}` : '';
  const head = `${m.name.padEnd(24)} ${what.padEnd(20)}`;
  if (m.status !== 'ok') return `${head} ${m.status}: ${m.reason ?? ''}`;
  const x = m.extra ?? {};
  if (m.name === 'put-throughput' && m.summary) return `${head} ${fmt(m.summary.median)} ops/s`;
  if (m.name === 'db-size' && m.summary) return `${head} ${(m.summary.median / 2 ** 20).toFixed(1)} MiB`;
  if (m.histogram) return `${head} p50≈${fmt(x.p50EstimateMs as number)} ms  p99≈${fmt(x.p99EstimateMs as number)} ms  n=${String(x.count)} (etcd histogram)`;
  if (!m.summary) return `${head} ok`;
  const s = m.summary;
  const cpu = p.op === 'watch' ? `  client cpu ${((x.clientCpuShare as number) * 100).toFixed(0)}%${x.etcdCpuShare !== null && x.etcdCpuShare !== undefined ? `  etcd cpu ${((x.etcdCpuShare as number) * 100).toFixed(0)}%` : ''}  lost ${String(x.lost)}` : '';
  return `${head} p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  max ${fmt(s.max)} ms  n=${s.n}${cpu}`;
}

export const etcdCommand: Command = {
  summary: "etcd put and watch latency, and etcd's WAL fsync / backend commit histograms",
  usage: 'kscale etcd [--profile smoke|quick|full|ci] [--etcd-endpoints URLS] [--etcd-cacert F --etcd-cert F --etcd-key F] [--etcd-data-dir DIR] [--seed N] [--json]',
  options: {
    profile: { type: 'string', default: 'quick' },
    'etcd-endpoints': { type: 'string' },
    'etcd-cacert': { type: 'string' },
    'etcd-cert': { type: 'string' },
    'etcd-key': { type: 'string' },
    'etcd-data-dir': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const profileName = str(values.profile) ?? 'quick';
    if (!isProfileName(profileName)) throw new InputError('--profile', `unknown profile "${profileName}" (known: ${Object.keys(PROFILES).join(', ')})`);
    const sizes = ETCD_SIZES[profileName];
    const tls = loadTls({ cacert: str(values['etcd-cacert']), cert: str(values['etcd-cert']), key: str(values['etcd-key']) });
    const endpoints = str(values['etcd-endpoints']);
    if (endpoints !== undefined && str(values['etcd-data-dir'])) throw new InputError('--etcd-data-dir', 'only for the etcd kscale starts, not with --etcd-endpoints');
    if (endpoints === undefined && tls) throw new InputError('--etcd-cacert', 'TLS files go with --etcd-endpoints');
    const external: ExternalEtcd | undefined = endpoints !== undefined ? { urls: parseEndpoints(endpoints, tls !== undefined), ...(tls ? { tls } : {}) } : undefined;
    const seed = parseSize('seed', str(values.seed) ?? '1', 2 ** 31 - 1, 0);
    const dataDir = resolve(str(values['etcd-data-dir']) ?? join(PACKAGE_ROOT, 'results', 'runs'));
    if (!external) {
      try {
        mkdirSync(dataDir, { recursive: true });
        if (!statSync(dataDir).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        throw new InputError('--etcd-data-dir', `${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const json = values.json === true;
    const runId = newRunId();
    const prefix = `kscale-${runId.slice(-6)}`;
    const release = claimPrefix(prefix);
    const caps = await probeCapabilities();
    const measurements: Measurement[] = [];
    const progress = progressFor(json);
    try {
      progress.plan(etcdSteps(sizes));
      await runEtcdMeasurements({ sizes, caps, runId, prefix, dataDir, seed, progress, record: (m) => measurements.push(m), ...(external ? { external } : {}) });
    } finally {
      progress.done();
      await runCleanup();
      release();
    }
    if (json) process.stdout.write(JSON.stringify({ runId, profile: profileName, sizes, measurements }, null, 2) + '\n');
    else for (const m of measurements) process.stdout.write(etcdLine(m) + '\n');
    return measurements.some((m) => m.status === 'failed') ? EXIT.failed : EXIT.ok;
  },
};
