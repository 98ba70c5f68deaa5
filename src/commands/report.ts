// `kscale report [RUN_DIR]`: report.md + report.html (+ charts/*.svg) from a run's results.json.
import { EXIT } from '../errors.js';
import { writeReport } from '../report/index.js';
import type { Command } from '../cli.js';

export const reportCommand: Command = {
  summary: 'write report.md and a self-contained report.html with charts for a run',
  usage: 'kscale report [RUN_DIR] [--json]   (default RUN_DIR: results/runs/latest)',
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals) {
    const out = await writeReport(positionals[0]);
    process.stdout.write(values.json ? JSON.stringify(out) + '\n' : `report: ${out.md}\nhtml:   ${out.html}\n`);
    return EXIT.ok;
  },
};
