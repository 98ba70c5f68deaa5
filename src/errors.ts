// Error types the CLI maps to documented exit codes (see README "Exit codes").
// Everything the user can fix by changing input is an InputError (exit 2);
// a capability the user explicitly required but the host lacks is a CapabilityError (exit 3).

export class InputError extends Error {
  override readonly name = 'InputError';
  /** What the error is about: a file, "Service ns/name", a CLI flag… */
  readonly subject: string;
  constructor(subject: string, reason: string) {
    super(`${subject}: ${reason}`);
    this.subject = subject;
  }
}

export class CapabilityError extends Error {
  override readonly name = 'CapabilityError';
  readonly capability: string;
  constructor(capability: string, reason: string) {
    super(`${capability} is required but not available: ${reason}`);
    this.capability = capability;
  }
}

export const EXIT = { ok: 0, failed: 1, badInput: 2, missingCapability: 3 } as const;
