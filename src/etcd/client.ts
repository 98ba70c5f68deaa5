// Which etcd a run talks to and how: the embedded one kscale started, or the
// user's (--etcd-endpoints, optionally TLS). Every key kscale writes goes under
// `keyPrefix` — empty for the embedded etcd (a private, throwaway keyspace, so
// keys are exactly Kubernetes' /registry/pods/<ns>/<name>), `/kscale/<runid>`
// for a user's cluster, deleted again at the end.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Etcd3 } from 'etcd3';
import type { IOptions } from 'etcd3';
import { InputError } from '../errors.js';

export interface EtcdTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface EtcdTarget {
  endpoint: 'embedded' | 'external';
  /** Client URLs, http(s)://host:port. */
  urls: string[];
  tls?: EtcdTls;
  /** Prepended to every key written: '' (embedded) or /kscale/<runid> (external). */
  keyPrefix: string;
}

/** Deadline of one unary call: a dead or wedged etcd fails the measurement in seconds rather than hanging it. */
export const CALL_DEADLINE_MS = 10_000;

/** "--etcd-endpoints" → URLs; bare host:port gets http:// (https:// when TLS files were given). */
export function parseEndpoints(text: string, tls: boolean): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InputError('--etcd-endpoints', 'expected a comma-separated list of URLs (https://10.0.0.1:2379)');
  return items.map((item) => {
    const withScheme = /^[a-z]+:\/\//i.test(item) ? item : `${tls ? 'https' : 'http'}://${item}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new InputError('--etcd-endpoints', `"${item}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError('--etcd-endpoints', `"${item}": scheme must be http or https`);
    if (!u.port) throw new InputError('--etcd-endpoints', `"${item}": give the port (etcd's client port is usually 2379)`);
    if (u.protocol === 'https:' && !tls) throw new InputError('--etcd-endpoints', `"${item}" is https: give --etcd-cacert (and --etcd-cert/--etcd-key for client auth)`);
    return `${u.protocol}//${u.host}`;
  });
}

export function loadTls(files: { cacert?: string; cert?: string; key?: string }): EtcdTls | undefined {
  if (!files.cacert && !files.cert && !files.key) return undefined;
  if (!files.cacert) throw new InputError('--etcd-cacert', 'required with --etcd-cert/--etcd-key');
  if (Boolean(files.cert) !== Boolean(files.key)) throw new InputError(files.cert ? '--etcd-key' : '--etcd-cert', 'client certificate and key go together');
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new InputError(flag, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls: EtcdTls = { ca: read('--etcd-cacert', files.cacert) };
  if (files.cert && files.key) {
    tls.cert = read('--etcd-cert', files.cert);
    tls.key = read('--etcd-key', files.key);
  }
  return tls;
}

/**
 * One etcd3 client (one gRPC channel). `ownConnection` gives it its own TCP
 * connection instead of grpc-js's shared subchannel, so watchers spread over
 * several clients are served by separate streams as they would be from
 * separate processes.
 */
export function connect(target: EtcdTarget, opts: { ownConnection?: boolean } = {}): Etcd3 {
  const options: IOptions = {
    hosts: target.urls,
    dialTimeout: 5000,
    // Unary calls get a deadline; the watch stream lives as long as the watcher.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    grpcOptions: {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...(opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
    },
  };
  if (target.tls) {
    options.credentials = { rootCertificate: target.tls.ca, ...(target.tls.cert && target.tls.key ? { certChain: target.tls.cert, privateKey: target.tls.key } : {}) };
  }
  return new Etcd3(options);
}

/** GET a text document (etcd's /metrics), over TLS with the target's certificates when it has them. */
export function getText(url: string, tls?: EtcdTls, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', timeout: timeoutMs, ...(tls && u.protocol === 'https:' ? { ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        else resolve(body);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The first endpoint's /metrics text. */
export function scrapeMetricsText(target: EtcdTarget): Promise<string> {
  const [first] = target.urls;
  if (!first) return Promise.reject(new Error('no etcd endpoint'));
  return getText(`${first}/metrics`, target.tls);
}

/** Delete every key under the prefix (the external cluster's /kscale/<runid>/). Returns how many went. */
export async function deletePrefix(client: Etcd3, prefix: string): Promise<number> {
  if (!prefix.startsWith('/kscale/')) throw new Error(`refusing to delete "${prefix}": kscale only deletes under /kscale/<runid>/`);
  const r = await client.delete().prefix(prefix.endsWith('/') ? prefix : `${prefix}/`).exec();
  return Number(r.deleted);
}
