// The undo registry: an undo the code started itself is still the cleanup's
// business until it has finished (a signal's cleanup waits for it, and runs it
// again when it failed), so nothing is left because the two overlapped.
import { describe, expect, it } from 'vitest';
import { onCleanup, pendingCleanups, runCleanup } from '../../src/host/cleanup.js';

const later = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cleanup registry', () => {
  it('waits for an undo the code has started before it reports done', async () => {
    const events: string[] = [];
    const undo = onCleanup('slow', async () => {
      events.push('undo start');
      await later(100);
      events.push('undo end');
    });
    const started = undo();
    await runCleanup();
    events.push('cleanup done');
    await started;
    expect(events).toEqual(['undo start', 'undo end', 'cleanup done']);
    expect(pendingCleanups()).toEqual([]);
  });

  it('runs an undo again when the run the code started failed, and only then', async () => {
    let calls = 0;
    const undo = onCleanup('flaky', async () => {
      calls++;
      await later(20);
      if (calls === 1) throw new Error('its tool was killed');
    });
    const first = undo().catch((err: Error) => err.message);
    await runCleanup();
    expect(await first).toBe('its tool was killed');
    expect(calls).toBe(2);
    expect(pendingCleanups()).toEqual([]);
    // Done: running it again now does nothing.
    await undo();
    expect(calls).toBe(2);
  });

  it('runs an undo once when the code and the cleanup both ask for it', async () => {
    let calls = 0;
    const undo = onCleanup('once', async () => { calls++; await later(10); });
    await Promise.all([undo(), undo(), runCleanup()]);
    expect(calls).toBe(1);
  });
});
