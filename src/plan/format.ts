// The plan as text a platform team reads: per backend the projected numbers with
// how each was obtained, then scheduler and etcd, then the recommendation.
import { fmt } from '../report/common.js';
import type { Plan, Projection } from './project.js';

function line(label: string, p: Projection | undefined): string[] {
  if (!p) return [];
  return [`  ${label.padEnd(26)} ${fmt(p.value)} ${p.unit}${p.extrapolated ? '  [extrapolation]' : ''}`, `  ${''.padEnd(26)} ↳ ${p.basis}`];
}

export function formatPlan(plan: Plan): string {
  const p = plan.profile;
  const out = [
    `Capacity plan for ${p.nodes} nodes, ${p.pods} pods, ${p.services} Services × ${p.endpointsPerService} endpoints; ` +
      `${p.serviceChurnPerSecond} Service changes/s, ${p.newConnectionsPerSecondPerNode} new connections/s per node, bursts of ${p.podBurst} pods`,
    `from run ${plan.run.runId} on ${plan.run.host}`,
    '',
  ];
  for (const b of plan.backends) {
    out.push(`${b.backend}`);
    out.push(...line('rules / map size', b.objects), ...line('full sync', b.fullSync), ...line('incremental sync', b.incrementalSync),
      ...line('sync busy', b.syncBusy), ...line('first packet extra p50', b.firstPacketP50), ...line('first packet extra p99', b.firstPacketP99),
      ...line('first-packet CPU', b.firstPacketCores));
    for (const m of b.missing) out.push(`  – ${m}`);
    out.push('');
  }
  out.push('scheduler');
  if (plan.scheduler && 'burst' in plan.scheduler) out.push(...line('throughput', plan.scheduler.podsPerSecond), ...line('burst', plan.scheduler.burst));
  else out.push(`  – ${plan.scheduler?.missing ?? 'not measured'}`);
  out.push('', 'etcd');
  out.push(...line('WAL fsync p99', plan.etcd.fsyncP99), ...line('fsync headroom', plan.etcd.fsyncHeadroom), ...line('put p99', plan.etcd.putP99), ...line('watch p99', plan.etcd.watchP99));
  for (const m of plan.etcd.missing) out.push(`  – ${m}`);
  out.push('', ...plan.recommendation.lines, '');
  return out.join('\n');
}
