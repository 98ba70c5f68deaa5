// `kscale dataplane sync`: the sync suite's measurements for chosen backends
// and sizes, printed (or as JSON) instead of written into a run directory.
import { randomBytes } from 'node:crypto';
import { CapabilityError, EXIT, InputError } from '../errors.js';
import { probeCapabilities } from '../host/capabilities.js';
import { claimPrefix } from '../host/owner.js';
import { runCleanup } from '../host/cleanup.js';
import { silentProgress, ttyProgress } from '../bench/progress.js';
import { sweepLeftovers } from '../bench/sweep.js';
import { BACKENDS } from '../dataplane/backends.js';
import { BACKEND_NAMES } from '../dataplane/backend.js';
import type { BackendName } from '../dataplane/backend.js';
import { runSyncSweep, syncSteps } from '../dataplane/measure-sync.js';
import type { Measurement } from '../results/types.js';
import { parseList, parseSize, parseSizeList, str } from './options.js';
import type { Command } from '../cli.js';

const MAX_SERVICES = 100_000;
const MAX_ENDPOINTS = 1000;

function line(m: Measurement): string {
  const p = m.params;
  const what = `${String(p.backend).padEnd(15)} ${String(p.services).padStart(6)} × ${String(p.endpoints).padEnd(4)} ${m.name.padEnd(15)} ${String(p.mode ?? '').padEnd(7)}`;
  if (m.status !== 'ok' || !m.summary) return `${what} ${m.status}: ${m.reason ?? ''}`;
  const s = m.summary;
  const cpu = m.extra?.loaderCpuMs as number | undefined;
  return `${what} median ${s.median.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  n=${s.n}${cpu !== undefined ? `  loader cpu ${cpu.toFixed(0)} ms` : ''}`;
}

export const dataplaneCommand: Command = {
  summary: 'program dataplanes in a sandbox and time full and incremental syncs',
  usage: `kscale dataplane sync [--backends ${BACKEND_NAMES.join(',')}] [--services 1000,10000] [--endpoints 10] [--repeats N] [--tool-budget SECONDS] [--seed N] [--json]`,
  options: {
    backends: { type: 'string' },
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '3' },
    'tool-budget': { type: 'string', default: '600' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, ...extra] = positionals;
    if (sub !== 'sync') throw new InputError('dataplane', `unknown or missing subcommand "${sub ?? ''}" (known: sync)`);
    if (extra.length > 0) throw new InputError('dataplane sync', `unexpected argument "${extra[0]}"`);
    const names: BackendName[] = str(values.backends) ? parseList('backends', str(values.backends) ?? '', BACKEND_NAMES) : BACKENDS.map((b) => b.name);
    const services = parseSizeList('services', str(values.services) ?? '1000', MAX_SERVICES);
    const endpoints = parseSizeList('endpoints', str(values.endpoints) ?? '10', MAX_ENDPOINTS);
    const repeats = parseSize('repeats', str(values.repeats) ?? '3', 100);
    const toolBudgetMs = parseSize('tool-budget', str(values['tool-budget']) ?? '600', 86_400) * 1000;
    const seed = str(values.seed) ? parseSize('seed', str(values.seed) ?? '', 2 ** 31 - 1, 0) : 1;
    const backends = BACKENDS.filter((b) => names.includes(b.name));
    const json = values.json === true;
    const caps = await probeCapabilities();
    // Backends the user named explicitly must be able to run: exit 3 rather than a table of skips.
    if (str(values.backends)) {
      const missing = names.map((n) => {
        const b = BACKENDS.find((x) => x.name === n);
        const a = b?.probe(caps) ?? { available: false as const, reason: 'not implemented in this build' };
        return a.available ? undefined : `${n} (${a.reason})`;
      }).filter((x) => x !== undefined);
      if (missing.length > 0) throw new CapabilityError(missing.join(', '), 'the backends asked for cannot run on this host');
    }
    const prefix = `kscale-${randomBytes(3).toString('hex')}`;
    const release = claimPrefix(prefix);
    const measurements: Measurement[] = [];
    const progress = !json && process.stderr.isTTY ? ttyProgress() : silentProgress();
    try {
      const swept = await sweepLeftovers();
      for (const l of swept.removed) process.stderr.write(`kscale: removed leftover of an earlier run: ${l}\n`);
      progress.plan(syncSteps({ backends, services, endpoints }));
      await runSyncSweep({ backends, services, endpoints, repeats, toolBudgetMs, caps, prefix, seed, progress, record: (m) => measurements.push(m) });
    } finally {
      progress.done();
      await runCleanup();
      release();
    }
    if (json) process.stdout.write(JSON.stringify({ prefix, seed, measurements }, null, 2) + '\n');
    else for (const m of measurements) process.stdout.write(line(m) + '\n');
    return measurements.some((m) => m.status === 'failed') ? EXIT.failed : EXIT.ok;
  },
};
