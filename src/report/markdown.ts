// The short Markdown summary written next to results.json at the end of a run.
import type { Measurement, RunResults } from '../results/types.js';

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function paramsText(m: Measurement): string {
  return Object.entries(m.params).filter(([k]) => k !== 'dataDir').map(([k, v]) => `${k}=${v}`).join(', ');
}

function row(m: Measurement): string {
  const s = m.summary;
  const stats = s ? `${fmt(s.median)} | ${fmt(s.p99)} | ${s.n}` : '– | – | –';
  const status = m.status === 'ok' ? 'ok' : `${m.status}: ${(m.reason ?? '').replace(/\|/g, '\\|').split('\n')[0]}`;
  return `| ${m.suite} | ${m.name} | ${paramsText(m)} | ${m.unit} | ${stats} | ${status} |`;
}

export function renderSummaryMarkdown(r: RunResults): string {
  const h = r.host;
  const counts = { ok: 0, skipped: 0, failed: 0 };
  for (const m of r.measurements) counts[m.status]++;
  return [
    `# kscale run ${r.runId}`,
    '',
    `Profile **${r.profile}**, suites ${r.suites.join(', ')}, seed ${r.seed}, git ${r.gitSha?.slice(0, 12) ?? 'unknown'}.`,
    `Host: ${h.cpu.brand} (${h.cpu.cores} cores), ${(h.memory.totalBytes / 2 ** 30).toFixed(1)} GiB, ${h.os.distro}, kernel ${h.os.kernel}` +
      `${h.virtualization.virtual ? ` (virtual: ${h.virtualization.host || 'yes'})` : ''}; data disk ${h.disk.device} (${h.disk.fsType}).`,
    `Started ${r.startedAt}, ended ${r.endedAt}. Measurements: ${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed.`,
    '',
    '| suite | measurement | parameters | unit | median | p99 | n | status |',
    '|---|---|---|---|---|---|---|---|',
    ...r.measurements.map(row),
    '',
  ].join('\n');
}
