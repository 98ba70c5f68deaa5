// Progress for long runs, on stderr. On a terminal: one rewritten line with
// the current step, how far along and an ETA. Piped or logged (CI, `| tee`,
// nohup): plain lines, at most one per LINE_EVERY_MS, so a run of many minutes
// shows it is alive in a log without flooding it, and a run of seconds prints
// nothing. With --json: silent, so scripts read only what they asked for.
export interface Progress {
  /** Declare how many steps the run has (for the ETA). */
  plan(totalSteps: number): void;
  /** A step started. */
  step(label: string): void;
  /** Print a line that should stay visible (a skip, a failure); the same line again is not repeated. */
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

/** Whether a note is new: a backend skipped at every size says so once, not once per point. */
function firstTime(): (line: string) => boolean {
  const seen = new Set<string>();
  return (line) => {
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  };
}

/** The least time between two of lineProgress's step lines. */
export const LINE_EVERY_MS = 10_000;

/** `[k/n] step (elapsed, ETA)`: what both forms show of the current step. */
function stepLine(done: number, total: number, label: string, elapsed: number): string {
  const eta = done > 0 && total > done ? formatDuration((elapsed / done) * (total - done)) : '?';
  return `[${Math.min(done + 1, total)}/${total}] ${label}  (${formatDuration(elapsed)} elapsed, ETA ${eta})`;
}

/**
 * For a stream that is not a terminal: a step's line when it starts, if
 * LINE_EVERY_MS have passed since the last one (the first after the run's
 * first LINE_EVERY_MS); notes (skips, failures) as they come, each once.
 */
export function lineProgress(stream: { write(s: string): unknown } = process.stderr, now: () => number = Date.now, everyMs = LINE_EVERY_MS): Progress {
  let total = 0;
  let done = 0;
  let started = now();
  let lastLine = started;
  let current = '';
  const once = firstTime();
  return {
    plan(n) { total = n; done = 0; started = now(); lastLine = started; },
    step(label) {
      if (current) done++;
      current = label;
      const t = now();
      if (t - lastLine < everyMs) return;
      lastLine = t;
      stream.write(`kscale: ${stepLine(done, total, label, t - started)}\n`);
    },
    note(line) { if (once(line)) stream.write(`${line}\n`); },
    done() {},
  };
}

/** The progress a command shows: silent with --json, else a terminal's rewritten line or a log's plain lines. */
export function progressFor(json: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (json) return silentProgress();
  return stream.isTTY === true ? ttyProgress(stream) : lineProgress(stream);
}

export function ttyProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Progress {
  let total = 0;
  let done = 0;
  let started = now();
  let current = '';
  const once = firstTime();
  const render = (): void => {
    const line = stepLine(done, total, current, now() - started);
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
  };
  return {
    plan(n) { total = n; done = 0; started = now(); },
    step(label) {
      if (current) done++;
      current = label;
      render();
    },
    note(line) {
      if (!once(line)) return;
      stream.write(`\r\x1b[2K${line}\n`);
      if (current) render();
    },
    done() { stream.write('\r\x1b[2K'); },
  };
}
