// `kscale dataplane sync`: the sync suite's measurements for chosen backends
// and sizes, printed (or as JSON) instead of written into a run directory.
import { randomBytes } from 'node:crypto';
import { CapabilityError, EXIT, InputError } from '../errors.js';
import { probeCapabilities } from '../host/capabilities.js';
import { claimPrefix } from '../host/owner.js';
import { runCleanup } from '../host/cleanup.js';
import { progressFor } from '../bench/progress.js';
import type { Progress } from '../bench/progress.js';
import { sweepLeftovers } from '../bench/sweep.js';
import { BACKENDS } from '../dataplane/backends.js';
import { BACKEND_NAMES } from '../dataplane/backend.js';
import type { BackendName } from '../dataplane/backend.js';
import { runSyncSweep, syncSteps } from '../dataplane/measure-sync.js';
import { POSITIONS } from '../dataplane/traffic.js';
import type { Position } from '../dataplane/traffic.js';
import { DATAPATH_SIZES, runDatapathSweep } from '../../bench/suites/datapath.js';
import type { Measurement } from '../results/types.js';
import { parseList, parseSize, parseSizeList, str } from './options.js';
import type { Command } from '../cli.js';

const MAX_SERVICES = 100_000;
const MAX_ENDPOINTS = 1000;

function connectLine(m: Measurement): string {
  const p = m.params;
  const what = `${String(p.backend ?? '').padEnd(15)} ${String(p.services ?? '').padStart(6)} ${String(p.position ?? '').padEnd(7)} ${String(p.proto ?? '').padEnd(4)} ${m.name.padEnd(18)}`;
  if (m.status !== 'ok') return `${what} ${m.status}: ${m.reason ?? ''}`;
  if (m.name === 'cross-check' && m.status === 'ok') {
    const e = m.extra ?? {};
    return `${what} connection cycle median: kscale ${Number(e.kscaleMedianUs).toFixed(1)} µs  wrk ${Number(e.wrkMedianUs).toFixed(1)} µs  ratio ${Number(e.ratio).toFixed(3)}`;
  }
  if (m.name === 'cost-fit') {
    const e = m.extra ?? {};
    return `${what} b = ${Number(e.b).toFixed(2)} ns/Service  CI [${(e.bCI as number[] | undefined)?.map((x) => x.toFixed(2)).join(', ') ?? '?'}]  R² ${Number(e.r2).toFixed(3)}  ${e.o1 === true ? 'O(1)' : e.o1 === false ? (Number(e.b) < 0 ? 'falls with Services' : 'grows with Services') : ''}${typeof e.rangeChange === 'number' ? ` (${e.rangeChange >= 0 ? '+' : ''}${(100 * e.rangeChange).toFixed(1)}% over the sizes)` : ''}`;
  }
  const s = m.summary;
  return s ? `${what} p50 ${s.p50.toFixed(1)} ${m.unit}  p90 ${s.p90.toFixed(1)}  p99 ${s.p99.toFixed(1)}  n=${s.n}` : `${what} ok`;
}

function line(m: Measurement): string {
  const p = m.params;
  const what = `${String(p.backend).padEnd(15)} ${String(p.services).padStart(6)} × ${String(p.endpoints).padEnd(4)} ${m.name.padEnd(15)} ${String(p.mode ?? '').padEnd(7)}`;
  if (m.status !== 'ok' || !m.summary) return `${what} ${m.status}: ${m.reason ?? ''}`;
  const s = m.summary;
  const cpu = m.extra?.loaderCpuMs as number | undefined;
  return `${what} median ${s.median.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  n=${s.n}${cpu !== undefined ? `  loader cpu ${cpu.toFixed(0)} ms` : ''}`;
}

interface Parsed {
  names: BackendName[];
  services: number[];
  seed: number;
  json: boolean;
  explicit: boolean;
}

function parseCommon(values: Record<string, unknown>, defaultServices: string): Parsed {
  const explicit = str(values.backends) !== undefined;
  return {
    names: explicit ? parseList('backends', str(values.backends) ?? '', BACKEND_NAMES) : BACKENDS.map((b) => b.name),
    services: parseSizeList('services', str(values.services) ?? defaultServices, MAX_SERVICES),
    seed: str(values.seed) ? parseSize('seed', str(values.seed) ?? '', 2 ** 31 - 1, 0) : 1,
    json: values.json === true,
    explicit,
  };
}

/** Backends the user named explicitly must be able to run: exit 3 rather than a table of skips. */
async function requireBackends(names: readonly BackendName[]): Promise<void> {
  const caps = await probeCapabilities();
  const missing = names.map((n) => {
    const b = BACKENDS.find((x) => x.name === n);
    const a = b?.probe(caps) ?? { available: false as const, reason: 'not implemented in this build' };
    return a.available ? undefined : `${n} (${a.reason})`;
  }).filter((x) => x !== undefined);
  if (missing.length > 0) throw new CapabilityError(missing.join(', '), 'the backends asked for cannot run on this host');
}

/** Claim a prefix, sweep leftovers, run, clean up: the shell both subcommands share. */
async function inSandboxRun(json: boolean, body: (prefix: string, progress: Progress) => Promise<void>): Promise<string> {
  const prefix = `kscale-${randomBytes(3).toString('hex')}`;
  const release = claimPrefix(prefix);
  const progress = progressFor(json);
  try {
    const swept = await sweepLeftovers();
    for (const l of swept.removed) process.stderr.write(`kscale: removed leftover of an earlier run: ${l}\n`);
    await body(prefix, progress);
  } finally {
    progress.done();
    await runCleanup();
    release();
  }
  return prefix;
}

/** Flags that only one subcommand reads: given to the other, they would be silently ignored. */
const SUBCOMMAND_ONLY = { sync: ['repeats'], connect: ['position', 'proto', 'flows', 'rounds', 'batch', 'cross-check'] } as const;

export const dataplaneCommand: Command = {
  summary: 'program dataplanes in a sandbox: sync cost (sync) or new-connection cost with real packets (connect)',
  usage: [
    `kscale dataplane sync [--backends ${BACKEND_NAMES.join(',')}] [--services 1000] [--endpoints 10] [--repeats 3] [--tool-budget SECONDS] [--seed N] [--json]`,
    `       kscale dataplane connect [--backends …] [--services 100,1000,10000] [--endpoints 4] [--position last|first|middle|random] [--proto udp|tcp] [--flows N] [--rounds N] [--batch K] [--cross-check] [--tool-budget SECONDS] [--seed N] [--json]`,
  ].join('\n'),
  options: {
    backends: { type: 'string' },
    services: { type: 'string' },
    endpoints: { type: 'string' },
    repeats: { type: 'string' },
    position: { type: 'string' },
    proto: { type: 'string' },
    flows: { type: 'string' },
    rounds: { type: 'string' },
    batch: { type: 'string' },
    'cross-check': { type: 'boolean' },
    'tool-budget': { type: 'string', default: '600' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, ...extra] = positionals;
    if (sub !== 'sync' && sub !== 'connect') throw new InputError('subcommand', `unknown or missing "${sub ?? ''}" (known: sync, connect)`);
    if (extra.length > 0) throw new InputError(`dataplane ${sub}`, `unexpected argument "${extra[0]}"`);
    const other = sub === 'sync' ? 'connect' : 'sync';
    const stray = SUBCOMMAND_ONLY[other].find((k) => values[k] !== undefined);
    if (stray !== undefined) throw new InputError(`--${stray}`, `applies to dataplane ${other}, not ${sub}`);
    const toolBudgetMs = parseSize('tool-budget', str(values['tool-budget']) ?? '600', 86_400) * 1000;
    const measurements: Measurement[] = [];
    let prefix: string;
    if (sub === 'sync') {
      const o = parseCommon(values, '1000');
      const endpoints = parseSizeList('endpoints', str(values.endpoints) ?? '10', MAX_ENDPOINTS);
      const repeats = parseSize('repeats', str(values.repeats) ?? '3', 100);
      if (o.explicit) await requireBackends(o.names);
      const backends = BACKENDS.filter((b) => o.names.includes(b.name));
      const caps = await probeCapabilities();
      prefix = await inSandboxRun(o.json, async (pfx, progress) => {
        progress.plan(syncSteps({ backends, services: o.services, endpoints }));
        await runSyncSweep({ backends, services: o.services, endpoints, repeats, toolBudgetMs, caps, prefix: pfx, seed: o.seed, progress, record: (m) => measurements.push(m) });
      });
      if (o.json) process.stdout.write(JSON.stringify({ prefix, seed: o.seed, measurements }, null, 2) + '\n');
      else for (const m of measurements) process.stdout.write(line(m) + '\n');
    } else {
      const o = parseCommon(values, '100,1000,10000');
      const positions: Position[] = str(values.position) ? parseList('position', str(values.position) ?? '', POSITIONS) : [...POSITIONS];
      const protos = parseList('proto', str(values.proto) ?? 'udp', ['udp', 'tcp'] as const);
      const base = DATAPATH_SIZES.quick;
      const endpoints = parseSize('endpoints', str(values.endpoints) ?? String(base.endpoints), MAX_ENDPOINTS);
      const flows = parseSize('flows', str(values.flows) ?? String(base.flows), 1_000_000);
      const rounds = parseSize('rounds', str(values.rounds) ?? String(base.rounds), 1000);
      // UDP first packets per sendmmsg; TCP connects one at a time.
      const batch = parseSize('batch', str(values.batch) ?? '1', 1024);
      if (batch > 1 && protos.includes('tcp')) throw new InputError('--batch', 'applies to UDP new flows only (TCP connect–request–close runs one connection at a time)');
      const crossCheck = values['cross-check'] === true;
      if (o.explicit) await requireBackends(o.names);
      const backends = BACKENDS.filter((b) => o.names.includes(b.name));
      const caps = await probeCapabilities();
      prefix = await inSandboxRun(o.json, async (pfx, progress) => {
        await runDatapathSweep({ ...base, services: o.services, endpoints, flows, rounds, batch, crossCheck, protos, toolBudgetMs, backends, positions, ctx: { caps, prefix: pfx, seed: o.seed, progress, record: (m) => measurements.push(m) } });
      });
      if (o.json) process.stdout.write(JSON.stringify({ prefix, seed: o.seed, measurements }, null, 2) + '\n');
      else for (const m of measurements) process.stdout.write(connectLine(m) + '\n');
    }
    return measurements.some((m) => m.status === 'failed') ? EXIT.failed : EXIT.ok;
  },
};
