// The scheduler_perf thresholds the bench suite and the report show beside kscale's throughput.
import { describe, expect, it } from 'vitest';
import { SCHEDULER_PERF_THRESHOLDS, WORKLOADS } from '../../src/scheduler/synthetic.js';

describe('SCHEDULER_PERF_THRESHOLDS', () => {
  it('names the upstream workloads that carry each threshold (the plain 5000Nodes ones carry none)', () => {
    expect(SCHEDULER_PERF_THRESHOLDS.nodeaffinity).toEqual({ test: 'SchedulingNodeAffinity/5000Nodes_10000Pods', podsPerSecond: 220 });
    expect(SCHEDULER_PERF_THRESHOLDS.spread).toEqual({ test: 'TopologySpreading/5000Nodes_5000Pods', podsPerSecond: 460 });
    expect(SCHEDULER_PERF_THRESHOLDS.antiaffinity).toEqual({ test: 'SchedulingPodAntiAffinity/5000Nodes_2000Pods', podsPerSecond: 60 });
    expect(SCHEDULER_PERF_THRESHOLDS.basic).toEqual({ test: 'SchedulingBasic/5000Nodes_50000Pods', podsPerSecond: 810 });
    expect(SCHEDULER_PERF_THRESHOLDS.daemonset).toEqual({ test: 'SchedulingDaemonset/15000Nodes', podsPerSecond: 1100 });
  });
  it('names a 5000-node upstream test for a known workload, with a positive rate', () => {
    for (const [workload, t] of Object.entries(SCHEDULER_PERF_THRESHOLDS)) {
      expect(WORKLOADS as readonly string[]).toContain(workload);
      expect(t.test).toMatch(/^[A-Za-z]+\/\d+Nodes(_\w+)?$/);
      expect(t.podsPerSecond).toBeGreaterThan(0);
    }
  });
});
