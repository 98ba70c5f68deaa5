// Manual timing check (not a vitest file): render 50,000 services x 10 endpoints.
//   node --expose-gc test/dataplane/iptables/time-render.mjs [services] [endpointsPerService]
// Compiles the project with tsc into a temp dir, then times cold and warm renders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

const out = mkdtempSync(join(tmpdir(), 'kscale-iptables-'));
try {
  execFileSync('npx', ['tsc', '-p', join(root, 'tsconfig.json'), '--outDir', out, '--noEmit', 'false', '--sourceMap', 'false'], { stdio: 'pipe', cwd: root });
} catch {
  // Type errors elsewhere in the tree do not stop emit; only a missing output would.
}
const { renderIptables } = await import(join(out, 'src/dataplane/iptables/render.js'));
const { clearHashCache } = await import(join(out, 'src/dataplane/proxy/hash.js'));
const { buildProxyState } = await import(join(out, 'src/dataplane/proxy/state.js'));

const nSvc = Number(process.argv[2] ?? 50000);
const nEp = Number(process.argv[3] ?? 10);
const ip = (base, i) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const services = [];
const endpointSlices = [];
let epi = 0;
for (let i = 0; i < nSvc; i++) {
  const lb = i % 10 === 0;
  services.push({
    namespace: `ns${i % 100}`, name: `svc${i}`, type: lb ? 'LoadBalancer' : i % 3 === 0 ? 'NodePort' : 'ClusterIP',
    clusterIP: ip('172', i), clusterIPs: [ip('172', i)], ipFamilies: ['IPv4'], externalIPs: [],
    loadBalancerIngressIPs: lb ? [ip('5', i)] : [], loadBalancerSourceRanges: lb ? ['203.0.113.0/25'] : [],
    sessionAffinity: i % 7 === 0 ? 'ClientIP' : 'None', sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: i % 20 === 0 ? 'Local' : 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: lb ? 32000 + (i % 1000) : 0,
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: lb || i % 3 === 0 ? 30000 + (i % 2000) : 0 }],
  });
  const eps = [];
  for (let j = 0; j < nEp; j++) {
    eps.push({ addresses: [ip('10', epi++)], conditions: { ready: true, serving: true, terminating: false }, nodeName: j === 0 ? 'node1' : `node${j + 1}`, zone: '', zoneHints: [] });
  }
  endpointSlices.push({ namespace: `ns${i % 100}`, name: `svc${i}-1`, serviceName: `svc${i}`, addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints: eps });
}
const model = { services, endpointSlices };
const node = { nodeName: 'node1', nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8', masqueradeBit: 14 };

// Run with --expose-gc so earlier programs are collected before each timing.
const gc = globalThis.gc ?? (() => {});
for (const label of ['cold', 'warm', 'warm']) {
  if (label === 'cold') clearHashCache();
  gc();
  const t1 = performance.now();
  const st = buildProxyState(model, node);
  const stateMs = performance.now() - t1;
  const t2 = performance.now();
  let p = renderIptables(model, node, { proxyState: st });
  const ms = performance.now() - t1;
  console.log(`  proxy state ${stateMs.toFixed(0)} ms + iptables render ${(performance.now() - t2).toFixed(0)} ms`);
  console.log(`${label}: ${nSvc} services x ${nEp} endpoints -> ${p.counts.rules} rules, ${p.counts.chains} chains, ${(p.payload.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms total`);
  p = null;
}
