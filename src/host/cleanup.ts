// Everything a run creates on the host (namespaces, pinned maps, processes, temp
// dirs) registers its undo here. Undo runs in reverse order on normal exit, on
// error, and on SIGINT/SIGTERM, so Ctrl-C never leaves a host dirty.
import { killLiveChildren } from './exec.js';

type Undo = () => Promise<void> | void;

const stack: { label: string; undo: Undo }[] = [];
let installed = false;
let running: Promise<void> | undefined;
let signalled: string | undefined;

/** The signal that started a cleanup, when one did: undos that keep partial output on a normal exit remove it then. */
export function interruptedBy(): string | undefined {
  return signalled;
}

/** Register an undo; returns a function that runs it now (and unregisters it). */
export function onCleanup(label: string, undo: Undo): () => Promise<void> {
  installSignalHandlers();
  const entry = { label, undo };
  stack.push(entry);
  return async () => {
    const i = stack.indexOf(entry);
    if (i >= 0) {
      stack.splice(i, 1);
      await undo();
    }
  };
}

/** Run every registered undo, newest first; failures are reported, never stop the others. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    killLiveChildren();
    while (stack.length > 0) {
      const entry = stack.pop();
      if (!entry) break;
      try {
        await entry.undo();
      } catch (err) {
        process.stderr.write(`kscale: cleanup of ${entry.label} failed: ${(err as Error).message}\n`);
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

export function pendingCleanups(): string[] {
  return stack.map((e) => e.label);
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
    process.once(signal as NodeJS.Signals, () => {
      process.stderr.write(`\nkscale: ${signal} received, cleaning up…\n`);
      signalled = signal;
      // A second signal while cleaning up forces the exit; the next run's sweep removes what is left.
      process.once(signal as NodeJS.Signals, () => process.exit(code));
      void runCleanup().finally(() => process.exit(code));
    });
  }
}
