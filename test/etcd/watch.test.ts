// The watch bookkeeping: every (event, watcher) delivery accounted for.
import { describe, expect, it } from 'vitest';
import { DeliveryLedger } from '../../src/etcd/watch.js';

describe('DeliveryLedger', () => {
  it('times each delivery against the reference and counts the missing ones as lost', () => {
    const l = new DeliveryLedger(2, 3);
    l.arrive(0, 0, 11);
    l.arrive(0, 1, 12);
    l.arrive(0, 2, 15);
    l.arrive(1, 0, 21);
    l.arrive(1, 2, 22.5);
    expect(l.latencies([10, 20])).toEqual({ ms: [1, 2, 5, 1, 2.5], lost: 1 });
    expect(l.lastArrival([10, 20])).toEqual([5, Number.NaN]);
  });

  it('counts duplicates and events it never issued without taking them as deliveries', () => {
    const l = new DeliveryLedger(1, 2);
    l.arrive(0, 0, 1);
    l.arrive(0, 0, 2);
    l.arrive(undefined, 1, 3);
    l.arrive(5, 1, 3);
    expect(l.duplicates).toBe(1);
    expect(l.unexpected).toBe(2);
    expect(l.latencies([0]).lost).toBe(1);
  });

  it('complete() resolves when the last watcher has the event, and after the deadline when one never does', async () => {
    const l = new DeliveryLedger(2, 2);
    const done = l.complete(0, 60_000);
    l.arrive(0, 0, 1);
    l.arrive(0, 1, 2);
    await done; // would time the test out if the last arrival did not resolve it
    l.arrive(1, 0, 3);
    await l.complete(1, 50); // watcher 1 never gets event 1: the deadline ends the wait
    expect(l.latencies([0, 0]).lost).toBe(1);
  });
});
