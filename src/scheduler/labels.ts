// Label and node selectors: validation (bad input is an InputError, never a
// silent mismatch) and matching with upstream's semantics
// (apimachinery labels.Selector, component-helpers nodeaffinity).
import { InputError } from '../errors.js';
import type { LabelSelector, LabelSelectorRequirement, NodeSelectorRequirement, NodeSelectorTerm, SchedPod } from './types.js';

const INTEGER_RE = /^[+-]?\d+$/;

function checkRequirement(r: LabelSelectorRequirement | NodeSelectorRequirement, subject: string, allowNumeric: boolean): void {
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (r.values.length === 0) throw new InputError(subject, `operator ${r.operator} on "${r.key}" needs at least one value`);
      return;
    case 'Exists':
    case 'DoesNotExist':
      if (r.values.length !== 0) throw new InputError(subject, `operator ${r.operator} on "${r.key}" takes no values`);
      return;
    case 'Gt':
    case 'Lt':
      if (!allowNumeric) break;
      if (r.values.length !== 1 || !INTEGER_RE.test(r.values[0] ?? '')) throw new InputError(subject, `operator ${r.operator} on "${r.key}" needs exactly one integer value`);
      return;
  }
  throw new InputError(subject, `unknown selector operator "${String(r.operator)}" on "${r.key}"`);
}

export function validateLabelSelector(s: LabelSelector | null, subject: string): void {
  if (!s) return;
  for (const r of s.matchExpressions) checkRequirement(r, subject, false);
}

export function validateNodeSelectorTerm(t: NodeSelectorTerm, subject: string): void {
  for (const r of t.matchExpressions) checkRequirement(r, subject, true);
  for (const r of t.matchFields) {
    if (r.key !== 'metadata.name') throw new InputError(subject, `matchFields supports only metadata.name, not "${r.key}"`);
    if (r.operator !== 'In' && r.operator !== 'NotIn') throw new InputError(subject, `matchFields metadata.name supports In/NotIn, not ${r.operator}`);
    checkRequirement(r, subject, false);
  }
}

/** Every selector a pod carries, checked once at load time. */
export function validatePodSelectors(p: SchedPod): void {
  const subject = `Pod ${p.namespace}/${p.name}`;
  for (const t of p.requiredNodeAffinity ?? []) validateNodeSelectorTerm(t, subject);
  for (const t of p.preferredNodeAffinity) validateNodeSelectorTerm(t.preference, subject);
  for (const rules of [p.podAffinity, p.podAntiAffinity]) {
    for (const t of rules.required) validateLabelSelector(t.labelSelector, subject);
    for (const t of rules.preferred) validateLabelSelector(t.podAffinityTerm.labelSelector, subject);
  }
  for (const c of p.topologySpreadConstraints) {
    validateLabelSelector(c.labelSelector, subject);
    if (!Number.isInteger(c.maxSkew) || c.maxSkew < 1) throw new InputError(subject, `topologySpreadConstraint maxSkew must be an integer ≥ 1, got ${c.maxSkew}`);
    if (!c.topologyKey) throw new InputError(subject, 'topologySpreadConstraint without topologyKey');
  }
  validateLabelSelector(p.spreadSelector, subject);
}

function matchRequirement(r: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In': return has && r.values.includes(labels[r.key] as string);
    case 'NotIn': return !has || !r.values.includes(labels[r.key] as string);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** metav1.LabelSelectorAsSelector(s).Matches(labels): null matches nothing, {} everything. */
export function matchLabelSelector(s: LabelSelector | null, labels: Record<string, string>): boolean {
  if (!s) return false;
  for (const k in s.matchLabels) if (labels[k] !== s.matchLabels[k]) return false;
  for (const r of s.matchExpressions) if (!matchRequirement(r, labels)) return false;
  return true;
}

function matchNodeRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In': return value !== undefined && r.values.includes(value);
    case 'NotIn': return value === undefined || !r.values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !INTEGER_RE.test(value)) return false;
      const have = Number(value);
      const want = Number(r.values[0]);
      return r.operator === 'Gt' ? have > want : have < want;
    }
  }
}

/** A term with neither expressions nor fields matches no node (upstream's nodeaffinity). */
export function matchNodeSelectorTerm(t: NodeSelectorTerm, labels: Record<string, string>, nodeName: string): boolean {
  if (t.matchExpressions.length === 0 && t.matchFields.length === 0) return false;
  for (const r of t.matchExpressions) if (!matchNodeRequirement(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of t.matchFields) if (!matchNodeRequirement(r, nodeName)) return false;
  return true;
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector AND (any required term). */
export function matchRequiredNodeAffinity(
  nodeSelector: Record<string, string>, terms: NodeSelectorTerm[] | null, labels: Record<string, string>, nodeName: string,
): boolean {
  for (const k in nodeSelector) if (labels[k] !== nodeSelector[k]) return false;
  if (terms === null) return true;
  return terms.some((t) => matchNodeSelectorTerm(t, labels, nodeName));
}

/** A stable text form of any selector-ish value, used to share caches between equal selectors. */
export function signature(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}
