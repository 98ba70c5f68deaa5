#!/usr/bin/env node
// Where the scheduler's time goes. Runs the built CLI's `schedule` command
// twice:
//  1. under V8's sampling profiler (node --cpu-prof; every worker thread writes
//     its own profile too) and prints the functions with the most self time,
//     per thread and summed — a table that reads in a terminal or a CI log;
//  2. under clinic flame (Clinic.js), which writes an HTML flame graph of the
//     main thread to results/profiles/. Clinic is not a dependency (about 700
//     packages for one script): `npm exec` fetches the pinned version from the
//     npm registry on first use and caches it. --clinic doctor runs Clinic's
//     doctor instead, --clinic none skips it (offline, or only the table).
//
//   node scripts/profile-scheduler.mjs [--top N] [--keep DIR] [--clinic flame|doctor|none] [-- schedule options…]
//   default schedule options: --nodes 5000 --pods 20000 --workload mixed --workers 0 --percentage-of-nodes-to-score 100
//
// Needs `npm run build` (dist/) first. The .cpuprofile files go to a temp
// directory that is removed afterwards unless --keep names one (open them in
// Chrome DevTools → Performance for a flame chart of every thread).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'kscale.js');
/** Pinned so a profile taken today and one taken next year come from the same tool. */
const CLINIC_PACKAGE = 'clinic@13.0.0';
const CLINIC_TOOLS = ['flame', 'doctor', 'none'];
const DEFAULT_ARGS = ['--nodes', '5000', '--pods', '20000', '--workload', 'mixed', '--workers', '0', '--percentage-of-nodes-to-score', '100'];

function usage(msg) {
  process.stderr.write(`profile-scheduler: ${msg}\nusage: node scripts/profile-scheduler.mjs [--top N] [--keep DIR] [--clinic flame|doctor|none] [-- schedule options…]\n`);
  process.exit(2);
}

function parse(argv) {
  let top = 25;
  let keep = null;
  let clinic = 'flame';
  let rest = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { rest = argv.slice(i + 1); break; }
    if (a === '--top') { top = Number(argv[++i]); if (!Number.isInteger(top) || top < 1) usage('--top needs a positive integer'); }
    else if (a === '--keep') { keep = argv[++i]; if (!keep) usage('--keep needs a directory'); }
    else if (a === '--clinic') { clinic = argv[++i]; if (!CLINIC_TOOLS.includes(clinic)) usage(`--clinic takes one of ${CLINIC_TOOLS.join(', ')}`); }
    else if (a === '--help' || a === '-h') usage('help');
    else usage(`unknown option ${a}`);
  }
  return { top, keep, clinic, args: rest && rest.length > 0 ? rest : DEFAULT_ARGS };
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

/**
 * Runs `schedule` under clinic `tool` (fetched through npm exec) with its
 * output in a fresh directory under results/profiles/; returns the HTML report's
 * path, or null with the reason on stderr (the cpu-prof table stands alone then).
 */
function clinicReport(tool, args) {
  const dest = join(root, 'results', 'profiles', `scheduler-${tool}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dest, { recursive: true });
  process.stdout.write(`\nclinic ${tool} (${CLINIC_PACKAGE}, fetched by npm exec on first use)…\n`);
  // NO_INSIGHT: clinic otherwise asks on the terminal whether it may send usage statistics.
  const run = spawnSync('npm', ['exec', '--yes', `--package=${CLINIC_PACKAGE}`, '--', 'clinic', tool, '--open=false', '--dest', dest, '--', process.execPath, cli, 'schedule', ...args], {
    cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_INSIGHT: 'true' },
  });
  const html = existsSync(dest) ? readdirSync(dest).filter((f) => f.endsWith('.html')) : [];
  if (run.status !== 0 || html.length === 0) {
    const why = run.error ? run.error.message : run.status !== 0 ? `exited ${run.status ?? run.signal}` : 'wrote no HTML report';
    process.stderr.write(`profile-scheduler: clinic ${tool} ${why} (is the npm registry reachable? --clinic none skips it)\n`);
    rmSync(dest, { recursive: true, force: true });
    return null;
  }
  return join(dest, html[0]);
}

const { top, keep, clinic, args } = parse(process.argv.slice(2));
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
if (clinic !== 'none') {
  const report = clinicReport(clinic, args);
  if (report === null) process.exit(1);
  process.stdout.write(`\nclinic ${clinic} report: ${relative(process.cwd(), report)}\n`);
}
