#!/usr/bin/env node
// Where the scheduler's time goes, without clinic: runs the built CLI's
// `schedule` command under V8's sampling profiler (node --cpu-prof; every
// worker thread writes its own profile too) and prints the functions with the
// most self time, per thread and summed.
//
//   node scripts/profile-scheduler.mjs [--top N] [--keep DIR] [-- schedule options…]
//   default schedule options: --nodes 5000 --pods 20000 --workload mixed --workers 0 --percentage-of-nodes-to-score 100
//
// Needs `npm run build` (dist/) first. Profiles go to a temp directory that is
// removed afterwards unless --keep names one (open the .cpuprofile files in
// Chrome DevTools → Performance for a flame chart).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'kscale.js');
const DEFAULT_ARGS = ['--nodes', '5000', '--pods', '20000', '--workload', 'mixed', '--workers', '0', '--percentage-of-nodes-to-score', '100'];

function usage(msg) {
  process.stderr.write(`profile-scheduler: ${msg}\nusage: node scripts/profile-scheduler.mjs [--top N] [--keep DIR] [-- schedule options…]\n`);
  process.exit(2);
}

function parse(argv) {
  let top = 25;
  let keep = null;
  let rest = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { rest = argv.slice(i + 1); break; }
    if (a === '--top') { top = Number(argv[++i]); if (!Number.isInteger(top) || top < 1) usage('--top needs a positive integer'); }
    else if (a === '--keep') { keep = argv[++i]; if (!keep) usage('--keep needs a directory'); }
    else if (a === '--help' || a === '-h') usage('help');
    else usage(`unknown option ${a}`);
  }
  return { top, keep, args: rest && rest.length > 0 ? rest : DEFAULT_ARGS };
}

/** A frame's script: relative to the repo for our files, as given for node: internals. */
function location(url) {
  if (url.startsWith('file:')) return relative(root, fileURLToPath(url));
  if (url.startsWith('/')) return relative(root, url);
  return url;
}

/** Self time per function (name + location) of one .cpuprofile, in µs. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) hits.set(samples[i], (hits.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  const out = new Map();
  for (const [id, us] of hits) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    const where = f.url ? `${location(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + us);
  }
  return out;
}

function print(title, times, top) {
  const total = [...times.values()].reduce((s, v) => s + v, 0);
  process.stdout.write(`\n${title}: ${(total / 1000).toFixed(0)} ms sampled\n  self ms   share  function\n`);
  for (const [k, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`  ${(us / 1000).toFixed(1).padStart(8)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}\n`);
  }
}

const { top, keep, args } = parse(process.argv.slice(2));
if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) usage('dist/ is missing; run `npm run build` first');
const dir = keep ?? mkdtempSync(join(tmpdir(), 'kscale-prof-'));
mkdirSync(dir, { recursive: true });
try {
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, cli, 'schedule', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) { process.stderr.write(`profile-scheduler: kscale schedule exited ${run.status ?? run.signal}\n`); process.exit(run.status ?? 1); }
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) usage(`no .cpuprofile written to ${dir}`);
  const sum = new Map();
  for (const f of files) {
    const times = selfTimes(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    for (const [k, v] of times) sum.set(k, (sum.get(k) ?? 0) + v);
    // Node names them CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
    if (files.length > 1) print(`thread ${basename(f).split('.')[4] ?? '?'} (${f})`, times, Math.min(top, 12));
  }
  print(files.length > 1 ? `all ${files.length} threads` : 'main thread', sum, top);
  if (keep) process.stdout.write(`\nprofiles kept in ${dir}\n`);
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
