// `kscale` entry point. Parses arguments, maps errors to the documented exit
// codes (0 ok, 1 measurement failed / gate regressed, 2 bad input, 3 missing
// required capability) and prints one clear line for anything the user can fix.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapabilityError, EXIT, InputError } from './errors.js';
import { PACKAGE_ROOT } from './paths.js';
import { installSignalHandlers, runCleanup } from './host/cleanup.js';

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[]): Promise<number>;
}

// Each command is loaded when it is run: the big module graphs (the Kubernetes
// client, vega, gRPC) load only for the commands that use them, which keeps
// start-up fast and the open-files need of a single command small.
const COMMANDS: Record<string, () => Promise<Command>> = {
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  dataplane: async () => (await import('./commands/dataplane.js')).dataplaneCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  etcd: async () => (await import('./commands/etcd.js')).etcdCommand,
  gate: async () => (await import('./commands/gate.js')).gateCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  rules: async () => (await import('./commands/rules.js')).rulesCommand,
  schedule: async () => (await import('./commands/schedule.js')).scheduleCommand,
  snapshot: async () => (await import('./commands/snapshot.js')).snapshotCommand,
};

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function help(): Promise<string> {
  const lines = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).summary}`));
  return [`kscale ${version()} — measurements of Kubernetes' performance-critical insides`, '', 'usage: kscale <command> [options]', '', ...lines, '',
    'Every command takes --json for machine output and --help for its options.',
    'Exit codes: 0 ok, 1 a measurement failed, 2 bad input or usage, 3 a required capability is missing.', ''].join('\n');
}

/**
 * A reader that stops early (`kscale rules … | head`) closes stdout: stop
 * quietly with 0, as a Unix filter does, after the usual cleanup — not an
 * EPIPE stack trace. Other stdout errors stay errors.
 */
function stopWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    void runCleanup().finally(() => process.exit(EXIT.ok));
  });
}

/**
 * parseArgs' complaint as one line. A value that starts with "-" (a negative
 * number) is refused by parseArgs as "ambiguous"; say what it was instead.
 */
export function argumentError(err: Error & { code?: string }, args: readonly string[]): string {
  const first = err.message.split('\n')[0] ?? err.message;
  const ambiguous = /^Option '(-[^']*)' argument is ambiguous/.exec(first);
  if (err.code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || ambiguous === null) return first;
  const flag = (ambiguous[1] as string).split(', ').at(-1) as string;
  const at = args.indexOf(flag);
  const value = at >= 0 ? args[at + 1] : undefined;
  return `${flag}: ${value === undefined ? 'its value' : `"${value}"`} starts with "-": negative values are not accepted (a value that must start with "-" is written ${flag}=VALUE)`;
}

/** The most characters of an error message shown: a 5 MB name from a manifest is not worth a 10 MB line. */
export const MAX_MESSAGE_CHARS = 2000;

/**
 * An error message as the one line the exit codes promise: control characters
 * from the input (a newline or escape codes in a name) shown escaped, and the
 * whole cut at MAX_MESSAGE_CHARS.
 */
export function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = message.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return escaped.length > MAX_MESSAGE_CHARS ? `${escaped.slice(0, MAX_MESSAGE_CHARS)}… (${escaped.length - MAX_MESSAGE_CHARS} more characters)` : escaped;
}

export async function main(argv: string[]): Promise<number> {
  stopWhenStdoutCloses();
  // Before anything can create something on the host: a signal from here on runs the cleanup.
  installSignalHandlers();
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    // Asked for: stdout, exit 0. No command at all is a usage error: the same text on stderr, exit 2.
    (name === undefined ? process.stderr : process.stdout).write(await help());
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  if (name === '--version') {
    process.stdout.write(version() + '\n');
    return EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`kscale: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return EXIT.badInput;
  }
  const command = await load();
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (err) {
    process.stderr.write(`kscale ${name}: ${argumentError(err as Error & { code?: string }, rest)} (kscale ${name} --help for the options)\n`);
    return EXIT.badInput;
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`kscale ${name}: ${oneLine(err.message)}\n`);
      return EXIT.badInput;
    }
    if (err instanceof CapabilityError) {
      process.stderr.write(`kscale ${name}: ${oneLine(err.message)}\n`);
      return EXIT.missingCapability;
    }
    process.stderr.write(`kscale ${name}: ${oneLine((err as Error).message)}\n`);
    if (process.env.KSCALE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.failed;
  }
}
