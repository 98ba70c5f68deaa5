#!/usr/bin/env node
// The datapath's repeatability target, checked on this machine: runs
// `kscale dataplane connect … --json` several times back to back (each run
// its own process, sandboxes and rule loads) and prints, per point, how far
// the runs' figures spread ((max − min) / mean), for the figure that is meant
// to repeat (baselineRatio: the median per-round ratio to the interleaved
// no-rules baseline) and for the raw median next to it. Needs root, like the
// command, and `npm run build` (dist/) first.
//
//   node scripts/datapath-repeatability.mjs [--runs 3] [--threshold 5] [--keep DIR] [-- connect options…]
//   default connect options: --backends nftables,iptables-legacy,ebpf --services 100,1000 --endpoints 4 --position first,last,random --proto udp
//   (and the command's own defaults for the rest: 5,000 flows in 100 rounds per point)
//
// Exit 0 when every point of baselineRatio is within the threshold, 1 when
// some point is not or is missing from a run, 2 on bad usage or a failed run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'kscale.js');
const module = join(root, 'dist', 'src', 'stats', 'repeatability.js');
const DEFAULT_ARGS = ['--backends', 'nftables,iptables-legacy,ebpf', '--services', '100,1000', '--endpoints', '4', '--position', 'first,last,random', '--proto', 'udp'];

function usage(msg) {
  process.stderr.write(`datapath-repeatability: ${msg}\nusage: node scripts/datapath-repeatability.mjs [--runs N] [--threshold PERCENT] [--keep DIR] [-- connect options…]\n`);
  process.exit(2);
}

function parse(argv) {
  let runs = 3;
  let threshold = 5;
  let keep = null;
  let rest = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { rest = argv.slice(i + 1); break; }
    if (a === '--runs') { runs = Number(argv[++i]); if (!Number.isInteger(runs) || runs < 2) usage('--runs needs an integer ≥ 2'); }
    else if (a === '--threshold') { threshold = Number(argv[++i]); if (!Number.isFinite(threshold) || threshold <= 0) usage('--threshold needs a positive percentage'); }
    else if (a === '--keep') { keep = argv[++i]; if (!keep) usage('--keep needs a directory'); }
    else if (a === '--help' || a === '-h') usage('help');
    else usage(`unknown option ${a}`);
  }
  return { runs, threshold, keep, args: rest && rest.length > 0 ? rest : DEFAULT_ARGS };
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

const o = parse(process.argv.slice(2));
if (!existsSync(module)) usage('not built yet (dist/ missing): run "npm run build" first');
const { datapathPointKey, repeatability } = await import(pathToFileURL(module).href);
const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'kscale-repeat-'));
mkdirSync(dir, { recursive: true });
const runs = [];
try {
  for (let r = 1; r <= o.runs; r++) {
    process.stderr.write(`run ${r}/${o.runs}: kscale dataplane connect ${o.args.join(' ')} --json\n`);
    const p = spawnSync(process.execPath, [cli, 'dataplane', 'connect', ...o.args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
    if (p.status !== 0) {
      process.stderr.write(`datapath-repeatability: run ${r} exited ${p.status ?? p.signal}\n`);
      process.exit(2);
    }
    writeFileSync(join(dir, `run${r}.json`), p.stdout);
    runs.push(JSON.parse(p.stdout).measurements);
  }
} finally {
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}

const t = o.threshold / 100;
const ratio = repeatability(runs, datapathPointKey, (m) => m.extra?.baselineRatio, t);
const raw = repeatability(runs, datapathPointKey, (m) => m.summary?.median, t);
const rawByKey = new Map(raw.points.map((p) => [p.key, p]));
const width = Math.max(5, ...ratio.points.map((p) => p.key.length));
console.log(`${'point'.padEnd(width)}  baselineRatio per run${' '.repeat(Math.max(0, 8 * o.runs - 21))}  spread   raw median µs per run${' '.repeat(Math.max(0, 8 * o.runs - 21))}  spread`);
for (const p of ratio.points) {
  const q = rawByKey.get(p.key);
  const flag = p.spread > t ? '  over' : '';
  console.log(`${p.key.padEnd(width)}  ${p.values.map((v) => v.toFixed(3).padStart(7)).join(' ')}  ${pct(p.spread).padStart(6)}   ${(q?.values ?? []).map((v) => v.toFixed(2).padStart(7)).join(' ')}  ${q ? pct(q.spread).padStart(6) : ''}${flag}`);
}
for (const k of ratio.incomplete) console.log(`${k.padEnd(width)}  missing, failed or without a baseline in some run`);
const summary = (r) => `${r.over.length} of ${r.points.length} points over ${o.threshold}%, median spread ${pct(r.medianSpread)}, worst ${r.worst ? `${pct(r.worst.spread)} (${r.worst.key})` : 'none'}`;
console.log(`baselineRatio: ${summary(ratio)}`);
console.log(`raw median:    ${summary(raw)}`);
if (o.keep) console.log(`runs kept in ${dir}`);
process.exit(ratio.over.length === 0 && ratio.incomplete.length === 0 && ratio.points.length > 0 ? 0 : 1);
