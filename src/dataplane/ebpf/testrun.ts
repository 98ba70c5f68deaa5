// BPF_PROG_TEST_RUN on the loaded DNAT program: the kernel runs the program on
// a crafted frame `repeat` times and reports the average ns per run, the
// return code and the rewritten frame. The same program and frame run through
// `bpftool prog run` give an independent figure for the cross-check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../host/exec.js';
import { check } from '../../native/index.js';
import { bpfAddon } from '../../native/bpf.js';
import { parsePacket } from './packet.js';
import type { ParsedPacket } from './packet.js';

/** TC_ACT_OK / TC_ACT_SHOT, the return codes the programs use. */
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;

export interface ProgRun {
  retval: number;
  /** Average per run, as the kernel measured it. */
  durationNs: number;
  out: ParsedPacket | undefined;
  data: Buffer;
}

/** Run a program on `packet` `repeat` times in the kernel. */
export function progTestRun(progFd: number, packet: Buffer, repeat: number): ProgRun {
  const r = check('BPF_PROG_TEST_RUN', bpfAddon().bpfProgTestRun(progFd, packet, repeat, packet.length + 256));
  return { retval: r.retval, durationNs: r.durationNs, data: r.data, out: parsePacket(r.data) };
}

/** `bpftool prog run` prints "Return value: R, duration (average): Nns"; undefined when it does not. */
export function parseBpftoolRun(text: string): { retval: number; durationNs: number } | undefined {
  const m = /Return value:\s*(\d+),\s*duration(?:\s*\(average\))?:\s*(\d+)\s*ns/i.exec(text);
  return m ? { retval: Number(m[1]), durationNs: Number(m[2]) } : undefined;
}

/** The same test run through bpftool on the pinned program, for the cross-check. */
export async function bpftoolProgRun(pinnedPath: string, packet: Buffer, repeat: number, prefix: string): Promise<{ retval: number; durationNs: number }> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-bpftool-`));
  try {
    const input = join(dir, 'packet.bin');
    writeFileSync(input, packet);
    const r = await exec('bpftool', ['prog', 'run', 'pinned', pinnedPath, 'data_in', input, 'data_out', join(dir, 'out.bin'), 'repeat', String(repeat)], { timeoutMs: 60_000 });
    const parsed = parseBpftoolRun(r.stdout + r.stderr);
    if (r.code !== 0 || !parsed) throw new Error(`bpftool prog run exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
    return parsed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
