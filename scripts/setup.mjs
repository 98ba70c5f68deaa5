#!/usr/bin/env node
// Idempotent set-up that `npm run bench` and `npm test` run first (npm pre-hooks).
// Plain Node with no dependencies, because it runs before node_modules exists.
//
//   1. system packages from apt (only when root; otherwise it says what is missing)
//   2. npm dependencies (npm ci when package-lock.json changed)
//   3. the TypeScript build in dist/ (when a source changed)
//   4. the native addon with node-gyp (when native/ or binding.gyp changed)
//   5. the BPF objects in bpf/ with clang -target bpf (when a source changed)
//
// Each step keys on a content hash kept in .kscale-setup.json, so a second run
// does nothing and takes well under a few seconds. Output goes to stderr, so
// `kscale … --json` on stdout stays machine-readable.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampPath = join(root, '.kscale-setup.json');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) process.stderr.write(`[setup] ${msg}\n`); };
const warn = (msg) => process.stderr.write(`[setup] ${msg}\n`);

// Debian/Ubuntu packages the harness uses, and what for (shown when missing).
export const SYSTEM_PACKAGES = {
  clang: 'compiles bpf/*.c with -target bpf',
  llvm: 'llvm-strip for BPF objects',
  'libbpf-dev': 'native addon links libbpf',
  bpftool: 'cross-checks BPF test runs and dumps maps',
  iptables: 'iptables-nft / iptables-legacy backends',
  nftables: 'nftables backend (nft -f)',
  ipset: 'IPVS-mode ipsets',
  ipvsadm: 'IPVS backend (where the kernel has ip_vs)',
  conntrack: 'flushes conntrack between data-path points',
  iproute2: 'network namespaces and veth pairs',
  'etcd-server': 'etcd under test',
  'etcd-client': 'etcdctl health checks',
  fio: 'fsync cross-check against the native probe',
  wrk: 'cross-checks the native TCP connect–request–close generator through a VIP (optional)',
  'linux-libc-dev': 'kernel UAPI headers for BPF programs',
  chromium: 'headless browser that checks report.html renders (tests only)',
};

function readStamp() {
  try { return JSON.parse(readFileSync(stampPath, 'utf8')); } catch { return {}; }
}
function writeStamp(stamp) {
  const tmp = `${stampPath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(stamp, null, 2) + '\n');
  renameSync(tmp, stampPath);
}

function filesUnder(dir, accept) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, accept));
    else if (accept(entry.name)) out.push(path);
  }
  return out.sort();
}

function hashFiles(paths) {
  const h = createHash('sha256');
  for (const p of paths) {
    h.update(p.slice(root.length));
    h.update(existsSync(p) ? readFileSync(p) : Buffer.alloc(0));
  }
  return h.digest('hex');
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', quiet ? 'ignore' : process.stderr, 'pipe'], ...opts });
  const stderr = r.stderr ? r.stderr.toString() : '';
  if (r.status !== 0) {
    return { ok: false, why: `${cmd} exited ${r.status ?? r.signal}: ${stderr.trim().split('\n').slice(-5).join(' | ')}` };
  }
  return { ok: true };
}

const have = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function missingPackages() {
  if (!have('dpkg-query')) return null; // not a Debian-family system
  const names = Object.keys(SYSTEM_PACKAGES);
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...names], { encoding: 'utf8' });
  const installed = new Set(
    r.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]),
  );
  return names.filter((n) => !installed.has(n));
}

// Debian's etcd-server would start a system-wide etcd on :2379 at install. kscale
// starts its own etcd per run, so keep the package from starting one: the standard
// policy-rc.d hook for the duration of the install, removed right after.
function aptInstall(pkgs) {
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by kscale setup during apt-get install; removed after\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env });
    if (!r.ok) {
      // A fresh VM's package lists are often empty or stale: refresh once and retry.
      run('apt-get', ['update', '-q'], { env });
      r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env });
    }
    return r;
  } finally {
    if (ownPolicy) unlinkSync(policy);
  }
}

function stepSystemPackages() {
  const missing = missingPackages();
  if (missing === null) {
    warn('not a Debian/Ubuntu system (no dpkg-query): install the tools yourself: ' + Object.keys(SYSTEM_PACKAGES).join(' '));
    return;
  }
  if (missing.length === 0) return;
  if (!isRoot) {
    warn('missing system packages (not root, so nothing was installed):');
    for (const p of missing) warn(`  ${p.padEnd(14)} ${SYSTEM_PACKAGES[p]}`);
    warn(`install them with: sudo apt-get install --no-install-recommends ${missing.join(' ')}`);
    warn('measurements that need them will be reported as skipped.');
    return;
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const r = aptInstall(missing);
  if (!r.ok) warn(`apt-get install failed (${r.why}); measurements that need these will be skipped`);
}

function stepNpm(stamp) {
  const lock = join(root, 'package-lock.json');
  const key = hashFiles([join(root, 'package.json'), lock]);
  if (stamp.npm === key && existsSync(join(root, 'node_modules', '.package-lock.json'))) return true;
  const r = existsSync(lock)
    ? run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'])
    : run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  if (!r.ok) { warn(`npm dependencies failed: ${r.why}`); return false; }
  stamp.npm = key;
  return true;
}

function stepTypeScript(stamp) {
  const sources = [join(root, 'tsconfig.json'), ...filesUnder(join(root, 'src'), (n) => n.endsWith('.ts')), ...filesUnder(join(root, 'bench'), (n) => n.endsWith('.ts'))];
  const key = hashFiles(sources);
  if (stamp.tsc === key && existsSync(join(root, 'dist', 'src', 'cli.js'))) return true;
  const r = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  if (!r.ok) { warn(`TypeScript build failed: ${r.why}`); return false; }
  stamp.tsc = key;
  return true;
}

function stepNative(stamp) {
  const sources = [join(root, 'binding.gyp'), ...filesUnder(join(root, 'native'), (n) => /\.(cc|h)$/.test(n))];
  const key = hashFiles(sources);
  const addon = join(root, 'build', 'Release', 'kscale.node');
  if (stamp.native === key && existsSync(addon)) return;
  if (!existsSync('/usr/include/bpf/libbpf.h')) {
    warn('native addon not built: libbpf headers missing (package libbpf-dev); native measurements will be skipped');
    return;
  }
  const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  // Build against the headers that ship with this Node (no download: registries only here).
  const prefix = dirname(dirname(process.execPath));
  const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '');
  const r = run(process.execPath, [gyp, 'rebuild', '--loglevel=error', ...(nodedir ? [`--nodedir=${nodedir}`] : [])]);
  if (!r.ok) { warn(`native addon build failed: ${r.why}`); return; }
  stamp.native = key;
}

function stepBpf(stamp) {
  const sources = filesUnder(join(root, 'bpf'), (n) => n.endsWith('.c') || n.endsWith('.h'));
  if (sources.length === 0) return;
  const key = hashFiles(sources);
  const objects = sources.filter((s) => s.endsWith('.c')).map((s) => s.replace(/\.c$/, '.o'));
  if (stamp.bpf === key && objects.every((o) => existsSync(o))) return;
  if (!have('clang')) { warn('BPF objects not built: clang missing (package clang); eBPF measurements will be skipped'); return; }
  const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  const multiarch = `/usr/include/${arch}-linux-gnu`;
  for (const src of sources.filter((s) => s.endsWith('.c'))) {
    const out = src.replace(/\.c$/, '.o');
    const r = run('clang', ['-O2', '-g', '-Wall', '-target', 'bpf', `-D__TARGET_ARCH_${arch === 'aarch64' ? 'arm64' : 'x86'}`,
      ...(existsSync(multiarch) ? ['-I', multiarch] : []), '-c', src, '-o', out]);
    if (!r.ok) { warn(`BPF build of ${src} failed: ${r.why}`); return; }
  }
  stamp.bpf = key;
}

function main() {
  const started = Date.now();
  const stamp = readStamp();
  stepSystemPackages();
  const built = stepNpm(stamp) && stepTypeScript(stamp);
  stepNative(stamp);
  stepBpf(stamp);
  writeStamp(stamp);
  if (!built) { warn("set-up incomplete: see the messages above"); process.exitCode = 1; return; }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
