// The one way kscale runs an external tool. Never throws for a failing tool:
// the caller gets the exit code and stderr and decides (a failed measurement
// carries the tool's stderr in its reason). Every call has a deadline.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ExecResult {
  /** Exit code; 127 when the binary is missing, 124 when the deadline passed. */
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** CPU time of the child (user + system), from the OS's accounting. */
  cpuMs: number;
}

export interface ExecOptions {
  /** What the tool reads on stdin: text, bytes, or text in pieces written in order (a large payload need not be joined first). */
  input?: string | Buffer | readonly string[];
  timeoutMs?: number;
  /** Run inside this named network namespace (ip netns exec). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
}

/** Bytes the tool is handed on stdin for `input` (UTF-8, as exec writes it). */
export function inputBytes(input: string | Buffer | readonly string[]): number {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return Buffer.byteLength(input);
  let n = 0;
  for (const piece of input) n += Buffer.byteLength(piece);
  return n;
}

// Children still running, so a cleanup (Ctrl-C, error) can stop a long
// iptables-restore instead of leaving it working in a namespace being deleted.
const liveChildren = new Set<ReturnType<typeof spawn>>();

/**
 * Kill every tool kscale started that has not exited yet, and wait (up to
 * `waitMs`) until they have: a killed `ip netns add` can still create its
 * namespace on its way out, so undos that run before it is gone can miss what
 * it made. Resolves to how many there were.
 */
export async function killLiveChildren(waitMs = 2000): Promise<number> {
  const killed = [...liveChildren];
  const gone = killed.map((child) => new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  }));
  for (const child of killed) child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(gone), new Promise<void>((r) => { timer = setTimeout(r, waitMs); })]);
  clearTimeout(timer);
  return killed.length;
}

export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, [...args]];
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const before = childrenCpuTicks();
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    liveChildren.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // a tool that exits early closes its stdin; its exit code says why
    const finish = (code: number, extraErr = ''): void => {
      clearTimeout(timer);
      liveChildren.delete(child);
      const after = childrenCpuTicks();
      resolve({
        code: timedOut ? 124 : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + extraErr + (timedOut ? `\n${cmd}: killed after ${timeoutMs} ms` : ''),
        wallMs: Number(process.hrtime.bigint() - started) / 1e6,
        cpuMs: ((after - before) * 1000) / CLOCK_TICKS_PER_SECOND,
      });
    };
    child.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ENOENT' ? 127 : 126, `${cmd}: ${e.message}`));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1), signal && !timedOut ? `\n${cmd}: killed by ${signal}` : ''));
    const input = opts.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else {
      // Corked, the pieces go out as one writev per pipe-full instead of one write each.
      child.stdin.cork();
      for (const piece of input) if (piece.length > 0) child.stdin.write(piece);
      child.stdin.end();
    }
  });
}

// Node reports no per-child rusage, so read the reaped children's totals
// (cutime + cstime) from /proc/self/stat before and after. Resolution is one
// clock tick (10 ms at the usual USER_HZ=100); concurrent children blur it.
const CLOCK_TICKS_PER_SECOND = 100;

function childrenCpuTicks(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the ")" of the command name; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return 0;
  }
}
