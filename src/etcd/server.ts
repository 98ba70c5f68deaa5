// The embedded etcd: kscale starts the distribution's `etcd` on free loopback
// ports with its data dir on the disk under test, waits for /health, and stops
// it (SIGTERM, then SIGKILL) and removes the data dir on stop, error, exit or
// Ctrl-C. Everything it creates carries the run's prefix, and a record under
// /run/kscale names the process and dir, so a later run can sweep what a killed
// run left behind — only when the owner is gone, and only a process whose
// command line carries that prefix's data dir.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { onCleanup } from '../host/cleanup.js';
import { claimPrefix, OWNER_DIR, prefixIsLive, prefixOf, sweepOwnerFiles } from '../host/owner.js';

export class EtcdStartError extends Error {
  override readonly name = 'EtcdStartError';
}

export interface EtcdExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EtcdServer {
  name: string;
  pid: number;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** Settles when the process exits, for whatever reason (stop, crash, kill -9 from outside). */
  exited: Promise<EtcdExit>;
  running(): boolean;
  /** The last lines etcd wrote to stderr, condensed (zap JSON → "level msg: error"). */
  stderrTail(lines?: number): string;
  /** CPU time etcd has used so far (user + system, ms), from /proc; undefined once it is gone. */
  cpuMs(): number | undefined;
  /** SIGTERM, SIGKILL after a grace period, then the data dir goes. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The run's prefix (kscale-<6hex>); the data dir and member name carry it. */
  prefix: string;
  /** Directory on the disk under test that the data dir is created in. */
  parentDir: string;
  binary?: string;
  /** How long to wait for /health (ms). */
  healthTimeoutMs?: number;
  /** --quota-backend-bytes; the default (2 GiB) holds the full profile's 150,000 pods. */
  quotaBackendBytes?: number;
  /** Attempts with fresh ports when the ones picked were taken meanwhile. */
  portAttempts?: number;
  /** Ports for the first attempt (tests use a taken one); later attempts pick free ones. */
  ports?: { client: number; peer: number };
}

const STDERR_TAIL_BYTES = 64 * 1024;
const STOP_GRACE_MS = 5000;
const CLOCK_TICKS_PER_SECOND = 100;

/** Two distinct free loopback ports, by binding port 0 and letting go (etcd may still lose a race for them: see retries). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => ok(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  return ports;
}

/** etcd's command line for a single-member cluster on loopback. Pure, so tests can read it. */
export function etcdArgs(o: { name: string; dataDir: string; clientPort: number; peerPort: number; quotaBackendBytes?: number }): string[] {
  const client = `http://127.0.0.1:${o.clientPort}`;
  const peer = `http://127.0.0.1:${o.peerPort}`;
  const args = [
    `--name=${o.name}`,
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${o.name}=${peer}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${o.name}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (o.quotaBackendBytes !== undefined) args.push(`--quota-backend-bytes=${o.quotaBackendBytes}`);
  return args;
}

/**
 * etcd's last words, condensed: zap's JSON lines become "level msg: error".
 * When etcd logged errors (or Go printed a panic, whose goroutine dump would
 * otherwise fill the tail), those lines are what is returned; otherwise the
 * last lines.
 */
export function condenseEtcdLog(text: string, lines = 5): string {
  const all = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const parsed = all.map((l) => {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      const err = typeof j.error === 'string' ? `: ${j.error}` : '';
      const level = String(j.level ?? '');
      return { text: `${level} ${String(j.msg ?? '')}${err}`.trim(), severe: /^(error|dpanic|panic|fatal)$/.test(level) };
    } catch {
      return { text: l, severe: /^(panic:|fatal error:)/.test(l) };
    }
  });
  const severe = parsed.filter((p) => p.severe);
  return (severe.length > 0 ? severe : parsed).slice(-lines).map((p) => p.text).join(' | ');
}

/** Environment for etcd without ETCD_* variables: etcd refuses a flag that an env variable also sets. */
function etcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
}

function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function recordPath(name: string): string {
  return join(OWNER_DIR, `${name}.etcd.json`);
}

interface EtcdRecord {
  pid: number;
  dataDir: string;
}

function writeRecord(path: string, rec: EtcdRecord): void {
  try {
    mkdirSync(OWNER_DIR, { recursive: true, mode: 0o755 });
    writeFileSync(path, JSON.stringify(rec) + '\n');
  } catch {
    // Not root: no /run/kscale; the /proc scan of the sweep still finds the process.
  }
}

/** A data dir name this module creates: <prefix>-etcd or <prefix>-etcd-<n>. */
const DATA_DIR_RE = /^kscale-(?:doctor-)?[0-9a-f]{6}-etcd(?:-\d+)?$/;

function pickDataDir(parentDir: string, prefix: string): string {
  for (let n = 1; ; n++) {
    const dir = join(parentDir, n === 1 ? `${prefix}-etcd` : `${prefix}-etcd-${n}`);
    if (!existsSync(dir)) return dir;
  }
}

async function health(clientUrl: string): Promise<boolean> {
  try {
    const r = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await r.json()) as { health?: string };
    return r.ok && body.health === 'true';
  } catch {
    return false;
  }
}

/** rm -rf that tolerates a path that cannot exist (a parent that is a file). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitExit(child: ChildProcess, exited: Promise<EtcdExit>, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  // The grace timer is cleared once etcd exits: left running, it held the process open ms after its last result.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([exited.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function startOnce(o: StartOptions, dataDir: string, name: string, ports?: { client: number; peer: number }): Promise<{ server?: EtcdServer; portTaken?: boolean; error?: string }> {
  const [clientPort, peerPort] = ports ? [ports.client, ports.peer] : ((await freeLoopbackPorts(2)) as [number, number]);
  const args = etcdArgs({ name, dataDir, clientPort, peerPort, ...(o.quotaBackendBytes !== undefined ? { quotaBackendBytes: o.quotaBackendBytes } : {}) });
  const child = spawn(o.binary ?? 'etcd', args, { stdio: ['ignore', 'ignore', 'pipe'], env: etcdEnv() });
  let tail = '';
  child.stderr?.on('data', (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  let spawnError: string | undefined;
  const exited = new Promise<EtcdExit>((ok) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? `${o.binary ?? 'etcd'} not found (install package etcd-server)` : e.message;
      ok({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => ok({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const deadline = Date.now() + (o.healthTimeoutMs ?? 20_000);
  while (!done && Date.now() < deadline) {
    if (await health(clientUrl)) break;
    await Promise.race([sleep(100), exited]);
  }
  const stderrTail = (lines = 5): string => condenseEtcdLog(tail, lines);
  if (done || spawnError) {
    const ex = await exited;
    const how = spawnError ?? `etcd exited (${ex.signal ?? `code ${ex.code}`}) before it was healthy: ${stderrTail()}`;
    return { error: how, portTaken: /address already in use/.test(tail) };
  }
  if (!(await health(clientUrl))) {
    child.kill('SIGKILL');
    await exited;
    return { error: `etcd was not healthy at ${clientUrl}/health within ${o.healthTimeoutMs ?? 20_000} ms: ${stderrTail()}` };
  }
  let stopped: Promise<void> | undefined;
  const server: EtcdServer = {
    name,
    pid: child.pid ?? -1,
    clientUrl,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    dataDir,
    exited,
    running: () => !done,
    stderrTail,
    cpuMs: () => (done || child.pid === undefined ? undefined : cpuMsOf(child.pid)),
    stop() {
      stopped ??= (async () => {
        if (!done) {
          child.kill('SIGTERM');
          if (!(await waitExit(child, exited, STOP_GRACE_MS))) {
            child.kill('SIGKILL');
            await exited;
          }
        }
      })();
      return stopped;
    },
  };
  return { server };
}

/**
 * Start a single-member etcd on loopback. Throws EtcdStartError with etcd's own
 * words when it cannot start (missing binary, unusable data dir, ports), after
 * removing whatever it created.
 */
export async function startEtcd(o: StartOptions): Promise<EtcdServer> {
  const parentDir = resolve(o.parentDir);
  const dataDir = pickDataDir(parentDir, o.prefix);
  const name = basename(dataDir);
  const release = claimPrefix(o.prefix);
  const record = recordPath(name);
  let server: EtcdServer | undefined;
  const teardown = async (): Promise<void> => {
    try {
      await server?.stop();
      removeQuietly(dataDir);
      removeQuietly(record);
    } finally {
      release();
    }
  };
  const undo = onCleanup(`etcd ${name}`, teardown);
  try {
    try {
      mkdirSync(dataDir, { mode: 0o700 });
    } catch (err) {
      throw new EtcdStartError(`cannot create etcd data dir ${dataDir}: ${(err as Error).message}`);
    }
    const attempts = o.portAttempts ?? 3;
    let lastError = '';
    for (let i = 0; i < attempts; i++) {
      const r = await startOnce(o, dataDir, name, i === 0 ? o.ports : undefined);
      if (r.server) {
        server = r.server;
        writeRecord(record, { pid: server.pid, dataDir });
        const started = server;
        return { ...started, stop: undo };
      }
      lastError = r.error ?? 'unknown';
      if (!r.portTaken) break;
      // A port picked as free was taken before etcd bound it: start over in a clean dir with new ports.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { mode: 0o700 });
    }
    throw new EtcdStartError(lastError);
  } catch (err) {
    await undo();
    throw err;
  }
}

// ---- sweep of leftovers of earlier runs ----

function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/** The data dir of an etcd started by kscale, from its argv; undefined for any other process. */
export function kscaleEtcdDataDir(argv: readonly string[]): string | undefined {
  const [exe] = argv;
  if (exe === undefined || basename(exe) !== 'etcd') return undefined;
  const i = argv.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  if (i < 0) return undefined;
  const arg = argv[i] as string;
  const dir = arg === '--data-dir' ? argv[i + 1] : arg.slice('--data-dir='.length);
  return dir !== undefined && DATA_DIR_RE.test(basename(dir)) ? dir : undefined;
}

function parentPidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function killIfKscaleEtcd(pid: number, dataDir: string): Promise<boolean> {
  const argv = cmdlineOf(pid);
  // Only a process that is etcd on exactly this kscale data dir: a reused pid is left alone.
  if (!argv || kscaleEtcdDataDir(argv) !== dataDir) return false;
  try {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 30 && cmdlineOf(pid); i++) await sleep(100);
    if (cmdlineOf(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
  return true;
}

function removeDataDir(dir: string, removed: string[]): void {
  if (!DATA_DIR_RE.test(basename(dir)) || !existsSync(dir)) return;
  rmSync(dir, { recursive: true, force: true });
  removed.push(`data dir ${dir}`);
}

/**
 * Remove the etcd processes and data dirs of runs whose owner is gone: from the
 * records under /run/kscale, from a scan of /proc, and from the given parent
 * directories (the data dir of this run). Returns one line per object removed.
 */
export async function sweepLeftoverEtcd(parentDirs: readonly string[] = []): Promise<string[]> {
  const removed: string[] = [];
  let records: string[] = [];
  try {
    records = readdirSync(OWNER_DIR).filter((f) => f.endsWith('.etcd.json'));
  } catch {
    /* no /run/kscale */
  }
  for (const f of records) {
    const prefix = prefixOf(f);
    if (!prefix || prefixIsLive(prefix)) continue;
    try {
      const rec = JSON.parse(readFileSync(join(OWNER_DIR, f), 'utf8')) as EtcdRecord;
      if (await killIfKscaleEtcd(rec.pid, rec.dataDir)) removed.push(`etcd process ${rec.pid}`);
      if (prefixOf(basename(rec.dataDir)) === prefix) removeDataDir(rec.dataDir, removed);
    } catch {
      /* unreadable record: drop it */
    }
    rmSync(join(OWNER_DIR, f), { force: true });
  }
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || parentPidOf(pid) === process.pid) continue;
    const argv = cmdlineOf(pid);
    const dir = argv && kscaleEtcdDataDir(argv);
    const prefix = dir && prefixOf(basename(dir));
    if (!dir || !prefix || prefixIsLive(prefix)) continue;
    if (await killIfKscaleEtcd(pid, dir)) removed.push(`etcd process ${pid}`);
    removeDataDir(dir, removed);
  }
  for (const parent of parentDirs) {
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) {
      const prefix = DATA_DIR_RE.test(n) ? prefixOf(n) : undefined;
      if (prefix && !prefixIsLive(prefix)) removeDataDir(join(parent, n), removed);
    }
  }
  sweepOwnerFiles();
  return removed;
}
