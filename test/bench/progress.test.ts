// Progress where stderr is a log, not a terminal (CI, `npm run bench | tee`):
// plain lines, few enough not to flood the log, and none for a short run.
import { describe, expect, it } from 'vitest';
import { lineProgress, progressFor } from '../../src/bench/progress.js';
import { skipLines } from '../../src/commands/bench.js';

/** A lineProgress on a fake clock, writing into `lines`. */
function logged(everyMs = 10_000): { p: ReturnType<typeof lineProgress>; lines: string[]; at: (ms: number) => void } {
  let t = 1_000_000;
  const lines: string[] = [];
  const p = lineProgress({ write: (s: string) => lines.push(s) }, () => t, everyMs);
  return { p, lines, at: (ms) => { t = 1_000_000 + ms; } };
}

describe('line progress', () => {
  it('writes nothing for a run shorter than the interval', () => {
    const { p, lines, at } = logged();
    p.plan(3);
    for (const [k, label] of ['a', 'b', 'c'].entries()) { at(k * 3000); p.step(label); }
    p.done();
    expect(lines).toEqual([]);
  });

  it('writes the step that starts once the interval has passed, with its count, elapsed time and ETA', () => {
    const { p, lines, at } = logged();
    p.plan(4);
    at(0); p.step('suite one');
    at(5_000); p.step('suite two');
    at(12_000); p.step('suite three'); // 2 of 4 done in 12 s: 12 s to go
    at(15_000); p.step('suite four'); // 3 s after the last line: not shown
    expect(lines).toEqual(['kscale: [3/4] suite three  (12s elapsed, ETA 12s)\n']);
  });

  it('writes at most one line per interval however many steps start', () => {
    const { p, lines, at } = logged(1_000);
    p.plan(1000);
    for (let k = 0; k < 1000; k++) { at(k * 50); p.step(`step ${k}`); }
    // 50 s of steps, one line per second at most (the first at 1 s).
    expect(lines.length).toBeGreaterThanOrEqual(45);
    expect(lines.length).toBeLessThanOrEqual(50);
    expect(lines.every((l) => l.startsWith('kscale: [') && l.endsWith('\n'))).toBe(true);
  });

  it('writes notes (skips, failures) at once, whatever the interval, and the same note once', () => {
    const { p, lines } = logged();
    p.plan(3);
    p.step('x');
    p.note('datapath/connect skipped: the kernel has no ip_vs');
    p.note('datapath/connect skipped: the kernel has no ip_vs');
    p.note('datapath/connect failed: timeout');
    expect(lines).toEqual(['datapath/connect skipped: the kernel has no ip_vs\n', 'datapath/connect failed: timeout\n']);
  });

  it('is chosen for a stream that is not a terminal, and --json stays silent', () => {
    const lines: string[] = [];
    const pipe = { isTTY: false, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    progressFor(false, pipe).note('shown');
    progressFor(true, pipe).note('not shown');
    expect(lines).toEqual(['shown\n']);
  });
});

describe('the end-of-run skip lines', () => {
  const skip = (name: string, backend: string, size: number, reason: string) => ({ suite: 'datapath', name, params: { backend, services: size }, status: 'skipped' as const, reason });
  it('say a reason once per measurement, with how many points and the first', () => {
    const lines = skipLines([
      skip('new-connection', 'ipvs', 100, 'no ip_vs'),
      { suite: 'datapath', name: 'new-connection', params: { backend: 'nftables', services: 100 }, status: 'ok' as const },
      skip('new-connection', 'ipvs', 1000, 'no ip_vs'),
      skip('new-connection', 'ipvs', 2000, 'no ip_vs'),
      skip('new-connection', 'ebpf', 100, 'no BPF JIT'),
      skip('sync', 'ipvs', 100, 'no ip_vs'),
    ]);
    expect(lines).toEqual([
      'skipped datapath/new-connection (3 points, the first ipvs 100): no ip_vs',
      'skipped datapath/new-connection (ebpf 100): no BPF JIT',
      'skipped datapath/sync (ipvs 100): no ip_vs',
    ]);
  });
});
