// The scheduler_perf thresholds the bench suite and the report show beside kscale's throughput.
import { describe, expect, it } from 'vitest';
import { SCHEDULER_PERF_THRESHOLDS, WORKLOADS } from '../../src/scheduler/synthetic.js';

describe('SCHEDULER_PERF_THRESHOLDS', () => {
  it('anchors nodeaffinity to upstream SchedulingNodeAffinity at 5000 nodes (affinity/performance-config.yaml)', () => {
    expect(SCHEDULER_PERF_THRESHOLDS.nodeaffinity).toEqual({ test: 'SchedulingNodeAffinity/5000Nodes_10000Pods', podsPerSecond: 220 });
  });
  it('names a 5000-node upstream test for a known workload, with a positive rate', () => {
    for (const [workload, t] of Object.entries(SCHEDULER_PERF_THRESHOLDS)) {
      expect(WORKLOADS as readonly string[]).toContain(workload);
      expect(t.test).toMatch(/^[A-Za-z]+\/5000Nodes(_\w+)?$/);
      expect(t.podsPerSecond).toBeGreaterThan(0);
    }
  });
});
