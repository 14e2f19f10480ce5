// Shapes, kubectl helpers and the loopback /v1/status server of the AnomalyService e2e tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubectl, kubectlJson } from '../cluster/index.js';

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface Svc {
  metadata: { name: string; uid: string; generation: number; resourceVersion: string };
  spec: { workers: { replicas: number; threads: number } };
  status?: {
    observedGeneration?: number;
    conditions?: Cond[];
    url?: string;
    workerReplicas?: number;
    readyWorkers?: number;
    workerSelector?: string;
    queueDepth?: number;
    jobsRunning?: number;
    modelsStored?: number;
    lastScale?: {
      time: string;
      replicas: number;
      from: number;
      desired: number;
      reason: string;
      message: string;
    };
  };
}

export interface Child {
  kind: string;
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** An AnomalyService manifest; `spec` replaces the defaults' top-level fields. */
export function anomalyService(
  ns: string,
  name: string,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'AnomalyService',
    metadata: { name, namespace: ns },
    spec: { workers: { replicas: 1, threads: 2 }, redis: { managed: { size: '1Gi' } }, ...spec },
  };
}

export async function apply(obj: unknown): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

export function getSvc(ns: string, name: string): Promise<Svc> {
  return kubectlJson<Svc>(['get', 'anomalyservice', name, '-n', ns]);
}

export function condOf(s: Svc, type: string): Cond | undefined {
  return s.status?.conditions?.find((c) => c.type === type);
}

/** Every object of `kinds` in `ns` owned by the service `uid` (by ownerReference). */
export async function ownedBy(ns: string, uid: string, kinds: string): Promise<Child[]> {
  const list = await kubectlJson<{ items: Child[] }>(['get', kinds, '-n', ns]);
  return list.items.filter((o) =>
    o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller === true),
  );
}

/** The kinds an AnomalyService makes. */
export const CHILD_KINDS =
  'deployments.apps,statefulsets.apps,services,secrets,poddisruptionbudgets.policy,networkpolicies.networking.k8s.io';

/** A loopback server speaking the anomaly API's `GET /v1/status` per `<namespace>/<name>`, with bearer auth. */
export interface StatusServer {
  urlTemplate: string;
  /** Sets the queue depth served for a service (unset: 503). */
  setDepth(ns: string, name: string, depth: number): void;
  /** Only this token is accepted for the service (401 otherwise). */
  setToken(ns: string, name: string, token: string): void;
  /** Requests seen per service, with whether they were authorised. */
  seen(ns: string, name: string): { authorised: boolean }[];
  close(): Promise<void>;
}

export async function startStatusServer(): Promise<StatusServer> {
  const depth = new Map<string, number>();
  const tokens = new Map<string, string>();
  const seen = new Map<string, { authorised: boolean }[]>();
  const server = http.createServer((req, res) => {
    // Path: /<namespace>/<name>/v1/status
    const parts = (req.url ?? '').split('/');
    const key = `${decodeURIComponent(parts[1] ?? '')}/${decodeURIComponent(parts[2] ?? '')}`;
    const authorised = tokens.has(key) && req.headers.authorization === `Bearer ${tokens.get(key) ?? ''}`;
    const list = seen.get(key) ?? [];
    list.push({ authorised });
    seen.set(key, list);
    if (!authorised) return void res.writeHead(401).end();
    const d = depth.get(key);
    if (d === undefined) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        queueDepth: d,
        tasksRunning: 0,
        jobsRunning: d > 0 ? 1 : 0,
        workers: 1,
        modelsStored: 3,
        time: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    urlTemplate: `http://127.0.0.1:${port}/{namespace}/{name}/v1/status`,
    setDepth: (ns, name, d) => depth.set(`${ns}/${name}`, d),
    setToken: (ns, name, t) => tokens.set(`${ns}/${name}`, t),
    seen: (ns, name) => seen.get(`${ns}/${name}`) ?? [],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
