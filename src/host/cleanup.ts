// Everything a run creates on the host (namespaces, pinned maps, processes, temp
// dirs, owner files) registers its undo here. Undo runs in reverse order on
// normal exit, on error, and on SIGINT/SIGTERM, so Ctrl-C never leaves a host
// dirty.
//
// An undo the code itself started (a sandbox destroyed after a failed tool)
// stays registered until it has finished: a signal's cleanup waits for it,
// and runs it again if it failed (its tools are killed with everything else
// when the cleanup starts). Undos are written to be run again.
import { killLiveChildren } from './exec.js';

type Undo = () => Promise<void> | void;

interface Entry {
  label: string;
  undo: Undo;
  /** The run the code started (the function onCleanup returned), while it lasts. */
  running?: Promise<void>;
}

const stack: Entry[] = [];
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
  const entry: Entry = { label, undo };
  stack.push(entry);
  // A signal's cleanup is under way and the code carries on (its tool was killed, it moves to the next
  // size): whatever registers now is undone by that cleanup, and the caller is stopped before it creates more.
  if (signalled !== undefined) throw new Error(`interrupted by ${signalled}: not starting ${label}`);
  return async () => {
    if (!stack.includes(entry)) return;
    if (entry.running) return entry.running;
    entry.running = (async () => {
      try {
        await undo();
        const i = stack.indexOf(entry);
        if (i >= 0) stack.splice(i, 1);
      } finally {
        entry.running = undefined;
      }
    })();
    return entry.running;
  };
}

/** Run every registered undo, newest first; failures are reported, never stop the others. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    await killLiveChildren();
    while (stack.length > 0) {
      const entry = stack[stack.length - 1] as Entry;
      // Started by the code: let it finish; it leaves the stack when it succeeded, else it is run again here.
      if (entry.running) await entry.running.catch(() => undefined);
      const i = stack.lastIndexOf(entry);
      if (i < 0) continue;
      stack.splice(i, 1);
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

/** From the command's start, so a signal before anything registered (a probe's first namespace) still cleans up. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
    process.once(signal as NodeJS.Signals, () => {
      process.stderr.write(`\nkscale: ${signal} received, cleaning up…\n`);
      signalled = signal;
      // A second signal while cleaning up forces the exit; the next run's sweep removes what is left.
      process.once(signal as NodeJS.Signals, () => process.exit(code));
      void (async () => {
        // The code carries on between the cleanup's steps and may register more (its tool was killed, it
        // moves on); drain until nothing is left, then exit in the same turn as the last check.
        do {
          try {
            await runCleanup();
          } catch {
            // runCleanup reports each failure itself.
          }
        } while (stack.length > 0);
        process.exit(code);
      })();
    });
  }
}
