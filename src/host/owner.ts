// Which run owns a prefix. Every run claims its prefix (`kscale-<6hex>`) with an
// owner file under /run/kscale holding its pid and the pid's start time; a sweep
// removes leftovers only of prefixes whose owner is gone, so two runs on one host
// never tear down each other's namespaces, pins or etcd.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';

export const OWNER_DIR = process.env.KSCALE_OWNER_DIR ?? '/run/kscale';

/** kscale-<6 hex>, as the runner names a run; the doctor's throwaway namespaces use kscale-doctor-<6 hex>. */
export const PREFIX_RE = /^(kscale-(?:doctor-)?[0-9a-f]{6})(?:-|$)/;

/** The run prefix a kernel object or path name carries, or undefined when it is not kscale's. */
export function prefixOf(name: string): string | undefined {
  return PREFIX_RE.exec(name)?.[1];
}

/** Field 22 of /proc/<pid>/stat: the start time, which tells a live owner from a reused pid. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses; fields after it follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerPath(prefix: string): string {
  return join(OWNER_DIR, `${prefix}.owner`);
}

const claims = new Map<string, number>();

/**
 * Claim a prefix for this process; returns the release function. Claims are
 * counted, so a run's sandboxes, pins and etcd can each claim and release the
 * one prefix; the owner file goes when the last of them lets go.
 */
export function claimPrefix(prefix: string): () => void {
  const held = claims.get(prefix) ?? 0;
  if (held === 0) {
    try {
      mkdirSync(OWNER_DIR, { recursive: true, mode: 0o755 });
      writeFileSync(ownerPath(prefix), `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
    } catch {
      // Not root: /run is not writable, and then nothing this run could create needs protecting from a sweep.
    }
  }
  claims.set(prefix, held + 1);
  let released = false;
  const letGo = (): void => {
    if (released) return;
    released = true;
    const left = (claims.get(prefix) ?? 1) - 1;
    if (left > 0) claims.set(prefix, left);
    else {
      claims.delete(prefix);
      rmSync(ownerPath(prefix), { force: true });
    }
  };
  // Registered like any undo, so a signal's cleanup removes the file too (after what the claim protected:
  // the claim is older than the namespaces, pins and processes under it, and undos run newest first).
  const undo = onCleanup(`owner file ${prefix}`, letGo);
  return () => {
    // letGo runs synchronously inside: the file is gone when this returns.
    void undo();
  };
}

/** True while the process that claimed the prefix is still running. */
export function prefixIsLive(prefix: string): boolean {
  let text: string;
  try {
    text = readFileSync(ownerPath(prefix), 'utf8');
  } catch {
    return false;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  return Number.isInteger(pid) && pid > 0 && startTimeOf(pid) === start;
}

/** Owner files whose process is gone are leftovers themselves. */
export function sweepOwnerFiles(): string[] {
  let names: string[];
  try {
    names = readdirSync(OWNER_DIR);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of names) {
    const prefix = f.endsWith('.owner') ? prefixOf(f.slice(0, -'.owner'.length)) : undefined;
    if (prefix && !prefixIsLive(prefix)) {
      rmSync(join(OWNER_DIR, f), { force: true });
      removed.push(prefix);
    }
  }
  return removed;
}
