// `kscale doctor`: the capability table, probed for real.
import { probeCapabilities } from '../host/capabilities.js';
import type { CapabilityId } from '../host/capabilities.js';
import { CapabilityError, EXIT } from '../errors.js';
import { parseList, str } from './options.js';
import type { Command } from '../cli.js';

export const doctorCommand: Command = {
  summary: 'what this host can measure, and why not where it cannot',
  usage: 'kscale doctor [--json] [--require cap1,cap2]',
  options: { json: { type: 'boolean' }, require: { type: 'string' } },
  async run(values) {
    const caps = await probeCapabilities();
    const list = Object.values(caps);
    const required = str(values.require) ? parseList('require', str(values.require) ?? '', Object.keys(caps) as CapabilityId[]) : [];
    if (values.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    else {
      const width = Math.max(...list.map((c) => c.id.length));
      for (const c of list) process.stdout.write(`${c.available ? 'yes' : 'no '}  ${c.id.padEnd(width)}  ${c.reason}\n`);
    }
    const missing = required.filter((id) => !caps[id].available);
    if (missing.length > 0) throw new CapabilityError(missing.join(', '), missing.map((id) => caps[id].reason).join('; '));
    return EXIT.ok;
  },
};
