// Kubernetes-like objects for etcd: keys as the API server lays them out
// (/registry/pods/<namespace>/<name>) and a Pod as a scheduled, running
// ReplicaSet pod looks — metadata with labels, owner reference and managed
// fields, one container with resources and a service-account mount,
// status with conditions — about 2.5 KB, the size the etcd sizing guidance and
// Kubernetes' scale tests assume for a pod. The API server stores protobuf by
// default; this is the JSON form, of similar size. Pure and seeded.
import { mulberry32 } from '../stats/summary.js';

export const NAMESPACES = 50;

export function podKey(keyPrefix: string, namespace: string, name: string): string {
  return `${keyPrefix}/registry/pods/${namespace}/${name}`;
}

/** The prefix a watch on all pods (of every namespace) uses. */
export function podsPrefix(keyPrefix: string): string {
  return `${keyPrefix}/registry/pods/`;
}

function hex(rng: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

function uid(rng: () => number): string {
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
}

export interface PodRef {
  namespace: string;
  name: string;
}

/** The i-th pod of a run: namespace ns-<i mod 50>, name <app>-<hash>-<suffix>, as a Deployment's pods are named. */
export function podRef(i: number, tag = 'p'): PodRef {
  return { namespace: `ns-${i % NAMESPACES}`, name: `app-${tag}${Math.floor(i / NAMESPACES)}-${(i * 2654435761 >>> 0).toString(36).slice(0, 5)}` };
}

export function podValue(ref: PodRef, seed: number): Buffer {
  const rng = mulberry32(seed);
  const app = ref.name.split('-').slice(0, 2).join('-');
  const rsHash = hex(rng, 10);
  const node = `node-${Math.floor(rng() * 5000)}`;
  const ip = `10.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`;
  const created = new Date(Date.UTC(2026, 0, 1) + Math.floor(rng() * 3e10)).toISOString().replace(/\.\d+Z$/, 'Z');
  const image = `registry.example.com/${app}:v1.${Math.floor(rng() * 40)}.${Math.floor(rng() * 10)}`;
  const pod = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: ref.name,
      generateName: `${app}-${rsHash}-`,
      namespace: ref.namespace,
      uid: uid(rng),
      creationTimestamp: created,
      labels: { app, 'pod-template-hash': rsHash, tier: 'backend' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${rsHash}`, uid: uid(rng), controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: created, fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': {} }, 'f:spec': { 'f:containers': {} } } },
      ],
    },
    spec: {
      volumes: [{ name: `kube-api-access-${hex(rng, 5)}`, projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }], defaultMode: 420 } }],
      containers: [{
        name: app,
        image,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        volumeMounts: [{ name: 'kube-api-access', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: node,
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: created })),
      hostIP: `192.168.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`,
      podIP: ip,
      podIPs: [{ ip }],
      startTime: created,
      containerStatuses: [{ name: app, state: { running: { startedAt: created } }, lastState: {}, ready: true, restartCount: 0, image, imageID: `${image.split(':')[0]}@sha256:${hex(rng, 64)}`, containerID: `containerd://${hex(rng, 64)}`, started: true }],
      qosClass: 'Burstable',
    },
  };
  return Buffer.from(JSON.stringify(pod));
}
