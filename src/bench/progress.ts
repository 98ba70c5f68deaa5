// Progress for long runs: on a terminal, one rewritten line on stderr with the
// current step, how far along and an ETA; otherwise (CI, pipes, --json) silent,
// so stdout/stderr stay machine-readable.
export interface Progress {
  /** Declare how many steps the run has (for the ETA). */
  plan(totalSteps: number): void;
  /** A step started. */
  step(label: string): void;
  /** Print a line that should stay visible (a skip, a failure). */
  note(line: string): void;
  done(): void;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function silentProgress(): Progress {
  return { plan() {}, step() {}, note() {}, done() {} };
}

export function ttyProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Progress {
  let total = 0;
  let done = 0;
  let started = now();
  let current = '';
  const render = (): void => {
    const elapsed = now() - started;
    const eta = done > 0 && total > done ? formatDuration((elapsed / done) * (total - done)) : '?';
    const line = `[${Math.min(done + 1, total)}/${total}] ${current}  (${formatDuration(elapsed)} elapsed, ETA ${eta})`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
  };
  return {
    plan(n) { total = n; done = 0; started = now(); },
    step(label) {
      if (current) done++;
      current = label;
      render();
    },
    note(line) { stream.write(`\r\x1b[2K${line}\n`); if (current) render(); },
    done() { stream.write('\r\x1b[2K'); },
  };
}
