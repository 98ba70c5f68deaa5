// `kscale rules`: render what one dataplane would program for a cluster — from
// manifests (`kubectl get svc,endpointslices -A -o yaml` output) or a seeded
// synthetic cluster — and print it. Everything is rendered before anything is
// written, so bad input never leaves half a program on stdout; the text is
// then written in the renderer's own pieces, never joined into one string
// (at 50,000 Services that join, and stdout's copy of it, were a third of
// the peak memory).
import { InputError, EXIT } from '../errors.js';
import { inputBytes } from '../host/exec.js';
import { loadManifestFiles } from '../model/manifests.js';
import { generateCluster } from '../model/synthetic.js';
import type { Layout, TypeMix } from '../model/synthetic.js';
import { normalizeIPv4, parseCIDRv4Sloppy } from '../model/ip.js';
import { DEFAULT_NODE_CONTEXT } from '../model/types.js';
import type { ClusterModel, NodeContext, ServiceType } from '../model/types.js';
import { renderIptables } from '../dataplane/iptables/render.js';
import { renderNftables } from '../dataplane/nftables/index.js';
import { formatIpvsProgram, renderIpvs } from '../dataplane/ipvs/index.js';
import { ebpfMapsToJSON, renderEbpfMaps } from '../dataplane/ebpf/maps.js';
import { isDNSSubdomain } from '../model/validate.js';
import { parseList, parseSize, str } from './options.js';
import type { Command } from '../cli.js';

export const RULES_BACKENDS = ['iptables', 'nftables', 'ipvs', 'ebpf'] as const;
export type RulesBackend = (typeof RULES_BACKENDS)[number];

const LAYOUTS: readonly Layout[] = ['realistic', 'kube-proxy-scale', 'kube-proxy-nft-bench'];
const MIX_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const satisfies readonly ServiceType[];
/** Well above the 50,000-Service top of the benchmarks; the generators check their own address ranges. */
const MAX_SERVICES = 1_000_000;
const MAX_ENDPOINTS = 100_000;

export interface RenderedRules {
  backend: RulesBackend;
  counts: Record<string, number>;
  /** The program as text pieces whose concatenation is the text (iptables/nftables/ipvs); null for ebpf. */
  text: readonly string[] | null;
  /** The readable map dump (ebpf); null for the text backends. */
  maps: unknown;
}

/** What `--stats` reports on stderr after the program is written. */
export interface RulesStats {
  backend: RulesBackend;
  counts: Record<string, number>;
  /** Reading the manifests or generating the synthetic cluster. */
  modelMs: number;
  /** Rendering the program from the model (proxy state included). */
  renderMs: number;
  /** Writing it to stdout. */
  writeMs: number;
  /** The process's resident-set high-water mark: what rendering this cluster costs in memory, all in. */
  peakRssMiB: number;
}


/** "NodePort=0.1,LoadBalancer=0.05" → fractions; ClusterIP takes the rest. */
export function parseTypeMix(text: string): TypeMix {
  const mix: TypeMix = {};
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z]+)=([0-9]*\.?[0-9]+)$/.exec(part);
    const type = m?.[1];
    if (m === null || type === undefined || !(MIX_TYPES as readonly string[]).includes(type)) {
      throw new InputError('--type-mix', `"${part}" is not TYPE=FRACTION with TYPE one of ${MIX_TYPES.join(', ')}`);
    }
    const f = Number(m[2]);
    if (!(f >= 0 && f <= 1)) throw new InputError('--type-mix', `fraction ${m[2]} for ${type} is not within 0..1`);
    mix[type as (typeof MIX_TYPES)[number]] = f;
  }
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  if (total > 1 + 1e-9) throw new InputError('--type-mix', `fractions add up to ${total}, more than 1`);
  return mix;
}

function nodeContextFrom(values: Record<string, unknown>): NodeContext {
  const node: NodeContext = { ...DEFAULT_NODE_CONTEXT };
  const name = str(values['node-name']);
  if (name !== undefined) {
    if (!isDNSSubdomain(name)) throw new InputError('--node-name', `"${name}" is not a valid node name`);
    node.nodeName = name;
  }
  const ip = str(values['node-ip']);
  if (ip !== undefined) {
    const v = normalizeIPv4(ip);
    if (v === undefined) throw new InputError('--node-ip', `"${ip}" is not an IPv4 address`);
    node.nodeIP = v;
  }
  const cidr = str(values['cluster-cidr']);
  if (cidr !== undefined) {
    // '' turns local-traffic detection off, as an unset --cluster-cidr does.
    const c = cidr === '' ? undefined : parseCIDRv4Sloppy(cidr);
    if (cidr !== '' && c === undefined) throw new InputError('--cluster-cidr', `"${cidr}" is not an IPv4 CIDR`);
    node.clusterCIDR = c?.text ?? '';
  }
  const bit = str(values['masquerade-bit']);
  if (bit !== undefined) node.masqueradeBit = parseSize('masquerade-bit', bit, 31, 0);
  return node;
}

async function modelFrom(values: Record<string, unknown>, node: NodeContext): Promise<ClusterModel> {
  const from = Array.isArray(values.from) ? values.from.filter((v): v is string => typeof v === 'string') : [];
  const synthetic = ['services', 'endpoints', 'type', 'type-mix', 'layout', 'seed'].filter((k) => values[k] !== undefined);
  if (from.length > 0) {
    if (synthetic.length > 0) throw new InputError(`--${synthetic[0]}`, 'cannot be combined with --from (manifests or a synthetic cluster, not both)');
    return loadManifestFiles(from);
  }
  if (values.services === undefined || values.endpoints === undefined) {
    throw new InputError('--from / --services', 'give --from FILE… or both --services N and --endpoints E');
  }
  const services = parseSize('services', str(values.services) ?? '', MAX_SERVICES, 0);
  const endpointsPerService = parseSize('endpoints', str(values.endpoints) ?? '', MAX_ENDPOINTS, 0);
  const layout = str(values.layout) ?? 'realistic';
  if (!(LAYOUTS as readonly string[]).includes(layout)) throw new InputError('--layout', `unknown layout "${layout}" (known: ${LAYOUTS.join(', ')})`);
  const type = str(values.type);
  const mixText = str(values['type-mix']);
  if (type !== undefined && mixText !== undefined) throw new InputError('--type', 'give --type or --type-mix, not both');
  let typeMix: TypeMix | undefined;
  if (type !== undefined) {
    const types = parseList('type', type, MIX_TYPES);
    if (types.length > 1) throw new InputError('--type', `takes one Service type, got ${types.join(', ')} (a mix is --type-mix ${types.map((x) => `${x}=F`).join(',')})`);
    typeMix = { [types[0] as string]: 1 };
  } else if (mixText !== undefined) {
    typeMix = parseTypeMix(mixText);
  }
  const seed = parseSize('seed', str(values.seed) ?? '1', 2 ** 31 - 1, 0);
  return generateCluster({ services, endpointsPerService, seed, layout: layout as Layout, nodeName: node.nodeName, ...(typeMix ? { typeMix } : {}) });
}

/** Render `model` for one backend (pure; what the command prints). */
export function renderRules(backend: RulesBackend, model: ClusterModel, node: NodeContext): RenderedRules {
  switch (backend) {
    case 'iptables': {
      const p = renderIptables(model, node);
      const text = p.chunks;
      return { backend, counts: { rules: p.counts.rules, chains: p.counts.chains, servicePorts: p.servicePorts, endpoints: p.totalEndpoints, bytes: inputBytes(text) }, text, maps: null };
    }
    case 'nftables': {
      const p = renderNftables(model, node);
      const text = p.chunks;
      return { backend, counts: { operations: p.operations, ...p.counts, servicePorts: p.servicePorts, bytes: inputBytes(text) }, text, maps: null };
    }
    case 'ipvs': {
      const p = renderIpvs(model, node);
      const text = [formatIpvsProgram(p)];
      return { backend, counts: { ...p.counts, servicePorts: p.servicePorts, bytes: inputBytes(text) }, text, maps: null };
    }
    case 'ebpf': {
      const m = renderEbpfMaps(model, node);
      return { backend, counts: { ...m.counts }, text: null, maps: ebpfMapsToJSON(m) };
    }
  }
}

export const rulesCommand: Command = {
  summary: 'print what a dataplane (iptables | nftables | ipvs | ebpf) would program for a cluster',
  usage:
    'kscale rules --backend iptables|nftables|ipvs|ebpf (--from FILE… | --services N --endpoints E [--type ClusterIP|NodePort|LoadBalancer | --type-mix T=F,…] [--layout realistic|kube-proxy-scale|kube-proxy-nft-bench] [--seed S]) [--node-name N --node-ip IP --cluster-cidr CIDR --masquerade-bit B] [--json] [--stats]',
  options: {
    backend: { type: 'string' },
    from: { type: 'string', multiple: true },
    services: { type: 'string' },
    endpoints: { type: 'string' },
    type: { type: 'string' },
    'type-mix': { type: 'string' },
    layout: { type: 'string' },
    seed: { type: 'string' },
    'node-name': { type: 'string' },
    'node-ip': { type: 'string' },
    'cluster-cidr': { type: 'string' },
    'masquerade-bit': { type: 'string' },
    json: { type: 'boolean' },
    stats: { type: 'boolean' },
  },
  async run(values) {
    const backendText = str(values.backend);
    if (backendText === undefined) throw new InputError('--backend', `required (one of ${RULES_BACKENDS.join(', ')})`);
    const [backend] = parseList('backend', backendText, RULES_BACKENDS);
    if (backend === undefined || backendText.includes(',')) throw new InputError('--backend', 'give exactly one backend');
    const node = nodeContextFrom(values);
    const t0 = performance.now();
    const model = await modelFrom(values, node);
    // Legal (kube-proxy with no Services writes its base chains), but after --from more likely a wrong path.
    if (model.services.length === 0 && values.from !== undefined) process.stderr.write('kscale rules: warning: --from held no Services; printing the base rules alone\n');
    const t1 = performance.now();
    const out = renderRules(backend, model, node);
    const t2 = performance.now();
    await writeAll(values.json === true ? jsonPieces(out) : plainPieces(out));
    if (values.stats === true) {
      // On stderr, so stdout stays exactly the program; one JSON line a script (or the render benchmark) can read.
      const stats: RulesStats = {
        backend,
        counts: out.counts,
        modelMs: t1 - t0,
        renderMs: t2 - t1,
        writeMs: performance.now() - t2,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      };
      process.stderr.write(`${JSON.stringify(stats)}\n`);
    }
    return EXIT.ok;
  },
};

/**
 * The --json document `{"backend","counts","program"}` in pieces: the
 * program string is escaped piece by piece, so the document equals
 * JSON.stringify of the whole without building it.
 */
export function* jsonPieces(out: RenderedRules): Generator<string> {
  const head = `{"backend":${JSON.stringify(out.backend)},"counts":${JSON.stringify(out.counts)},"program":`;
  if (out.text === null) {
    yield `${head}${JSON.stringify(out.maps)}}\n`;
    return;
  }
  yield `${head}"`;
  // Escaping never spans pieces: JSON escapes are per character, and pieces end on whole lines.
  for (const piece of out.text) if (piece !== '') yield JSON.stringify(piece).slice(1, -1);
  yield '"}\n';
}

/** What the command prints without --json: the text as is, or the map dump as indented JSON. */
function* plainPieces(out: RenderedRules): Generator<string> {
  if (out.text === null) yield `${JSON.stringify(out.maps, null, 2)}\n`;
  else yield* out.text;
}

/** Write pieces to stdout in order, waiting whenever stdout asks to (a slow pipe reader holds no extra copy). */
async function writeAll(pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (piece === '') continue;
    if (!process.stdout.write(piece)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}
