// Kubernetes resource quantities ("100m", "2Gi", "1e3", "1.5", "500Mi"), parsed
// exactly. The value is kept as a rational of BigInts so nothing is lost to
// floating point; the scheduler then asks for it the way upstream does:
// Quantity.MilliValue() for cpu and Quantity.Value() for everything else, both
// rounding up to the next integer (apimachinery's ScaledValue rounds away from
// zero for positive values).
//
// Grammar (apimachinery pkg/api/resource, quantity.go):
//   <quantity>   ::= <signedNumber><suffix>
//   <number>     ::= digits | digits "." digits? | "." digits
//   <suffix>     ::= "" | binarySI (Ki Mi Gi Ti Pi Ei) | decimalSI (n u m k M G T P E)
//                  | ("e" | "E") <signed integer>          (decimal exponent)
// "E" alone is exa; "e" alone is not a suffix.
import { InputError } from '../errors.js';
import { isDNSSubdomain } from '../model/validate.js';

export interface Quantity {
  /** value = num / den exactly; den > 0. */
  num: bigint;
  den: bigint;
}

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;
const EXPONENT_RE = /^[eE]([+-]?\d+)$/;
/** Exponents beyond this cannot describe a resource anyone has; refusing them keeps BigInt work bounded. */
const MAX_EXPONENT = 64;

function fail(text: string, why: string): never {
  throw new InputError(`quantity "${text}"`, why);
}

/** Parses a quantity string exactly; throws InputError naming the string on anything malformed. */
export function parseQuantity(text: string): Quantity {
  const m = NUMBER_RE.exec(text);
  if (!m) fail(text, 'not a quantity');
  const [, sign = '', whole = '', frac = '', suffix = ''] = m;
  if (whole === '' && frac === '') fail(text, 'no digits (expected e.g. "100m", "2Gi", "1e3")');
  let num = BigInt((whole || '0') + frac);
  let den = 10n ** BigInt(frac.length);
  if (sign === '-') num = -num;
  if (Object.hasOwn(BINARY, suffix)) {
    num *= BINARY[suffix] as bigint;
  } else {
    let exp: number;
    if (Object.hasOwn(DECIMAL, suffix)) exp = DECIMAL[suffix] as number;
    else {
      const e = EXPONENT_RE.exec(suffix);
      if (!e) fail(text, `unknown suffix "${suffix}" (binary Ki..Ei, decimal n u m k M G T P E, or e<N>)`);
      exp = Number(e[1]);
      if (Math.abs(exp) > MAX_EXPONENT) fail(text, `exponent ${exp} is out of range`);
    }
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  return { num, den };
}

/** ceil(num/den) for any sign. */
function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den; // truncates toward zero
  return num % den !== 0n && num > 0n ? q + 1n : q;
}

function toSafeNumber(v: bigint, text: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(text, 'too large to represent exactly');
  return Number(v);
}

/** Quantity.MilliValue(): thousandths, rounded up ("100m" → 100, "1.5" → 1500, "1e3" → 1,000,000). */
export function milliValue(text: string): number {
  const q = parseQuantity(text);
  return toSafeNumber(ceilDiv(q.num * 1000n, q.den), text);
}

/** Quantity.Value(): whole units, rounded up ("2Gi" → 2147483648, "500Mi" → 524288000, "1e3" → 1000). */
export function value(text: string): number {
  const q = parseQuantity(text);
  return toSafeNumber(ceilDiv(q.num, q.den), text);
}

/**
 * A resource amount as the scheduler stores it: milli-units for cpu, whole units
 * (bytes, counts) for everything else. Negative amounts are refused: the API
 * server rejects negative requests and capacities.
 */
export function resourceAmount(resource: string, raw: string | number, subject: string): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  let v: number;
  try {
    v = resource === 'cpu' ? milliValue(text) : value(text);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(subject, `${resource}: ${err.message}`);
    throw err;
  }
  if (v < 0) throw new InputError(subject, `${resource}: negative quantity "${text}"`);
  return v;
}

/** The name part of a qualified name (prefix/name), as the API server checks an extended resource's name. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** apimachinery's IsQualifiedName: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
function isQualifiedName(s: string): boolean {
  const parts = s.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] ?? '';
  if (parts.length === 2 && !isDNSSubdomain(parts[0] ?? '')) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/**
 * Upstream's helper.IsExtendedResourceName: domain-prefixed outside the
 * kubernetes.io namespace (an unprefixed name is implicitly in it), not
 * "requests."-prefixed (quota's convention), and still a qualified name
 * with "requests." in front, as ResourceQuota would name it.
 */
export function isExtendedResourceName(resource: string): boolean {
  const native = !resource.includes('/') || resource.includes('kubernetes.io/');
  return !native && !resource.startsWith('requests.') && isQualifiedName(`requests.${resource}`);
}

/** Object counts the API server holds as integers (helper.IsIntegerResourceName, with extended resources). */
const INTEGER_RESOURCES = new Set([
  'pods', 'resourcequotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
]);

/**
 * Whether the API server takes `text` as a whole amount: its test is
 * MilliValue() % 1000 == 0, MilliValue rounding up, so "1.5" is not whole
 * (value() would quietly make it 2) and "0.9999" is. Exact, in BigInt.
 */
function isWholeAmount(text: string | number): boolean {
  const q = parseQuantity(String(text));
  return ceilDiv(q.num * 1000n, q.den) % 1000n === 0n;
}

/**
 * Why a container may not request `resource` as the API server sees it, or
 * undefined when it may: the standard container resources (cpu, memory,
 * ephemeral-storage, hugepages-<size>), or an extended resource, which is
 * domain-prefixed outside kubernetes.io and requested in whole units. A name
 * it would reject (`CPU`, `pods`) would otherwise read as a shortage on every node.
 */
export function containerResourceProblem(resource: string, text: string | number): string | undefined {
  if (resource === 'cpu' || resource === 'memory' || resource === 'ephemeral-storage') return undefined;
  if (resource.startsWith('hugepages-')) return undefined;
  if (!isExtendedResourceName(resource)) {
    return `"${resource}" is not a resource a container can request (cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource such as example.com/gpu)`;
  }
  if (!isWholeAmount(text)) return `${resource}: an extended resource is requested in whole units, got "${String(text)}"`;
  return undefined;
}

/**
 * Why the API server would refuse `text` as a Node's status.capacity or
 * status.allocatable amount of `resource`, or undefined. Its check
 * (ValidateNodeResources → ValidateResourceQuantityValue) is of the amount
 * only: not negative (resourceAmount refuses that), and whole for object
 * counts and extended resources. The key itself is not checked there, so a
 * name such as `CPU` is stored as given; no pod can request it.
 */
export function nodeResourceProblem(resource: string, text: string | number): string | undefined {
  if (!INTEGER_RESOURCES.has(resource) && !isExtendedResourceName(resource)) return undefined;
  if (!isWholeAmount(text)) return `${resource}: must be a whole number (the API server counts pods and extended resources in whole units), got "${String(text)}"`;
  return undefined;
}
