// Shapes, fixtures and kubectl helpers of the NotebookLab e2e tests.
import { eventually, kubectl, kubectlJson, ToolError } from '../cluster/index.js';

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface Lab {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[] };
  spec: { state: string };
  status?: {
    phase?: string;
    message?: string;
    homeClaimName?: string;
    url?: string;
    conditions?: Cond[];
    observedGeneration?: number;
    progress?: { name: string; state: string; startedAt?: string; finishedAt?: string }[];
    lastTermination?: { reason: string; message?: string };
    cullAt?: string;
    lastActivity?: string;
    image?: string;
  };
}
export interface Obj {
  metadata: {
    name: string;
    uid: string;
    ownerReferences?: { kind: string; uid: string; controller?: boolean }[];
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** A NotebookProfile offering one image alias and two sizes (one larger than any kwok node); `over` replaces spec fields. */
export function profile(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookProfile',
    metadata: { name },
    spec: {
      images: {
        aliases: [{ name: 'recommended', image: 'quay.io/jupyter/scipy-notebook:2025-06-02' }],
        defaultAlias: 'recommended',
      },
      sizes: [
        { name: 'small', requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        // Larger than any kwok node (32 CPU): the scheduler reports Unschedulable.
        { name: 'enormous', requests: { cpu: '500', memory: '2Gi' }, limits: { cpu: '500', memory: '2Gi' } },
      ],
      defaultSize: 'small',
      home: { size: '1Gi', retainPolicy: 'Retain' },
      culling: { enabled: false, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
      quota: { maxLabs: 10 },
      network: { enabled: true, ingressNamespaces: ['skyport-proxy'] },
      ...over,
    },
  };
}

/** `kubectl apply` of one object. */
export async function applyObject(obj: unknown): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

/** One NotebookLab of owner alice (unless `spec` says otherwise) in namespace `ns`. */
export function labObject(
  ns: string,
  name: string,
  profileName: string,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: { name, namespace: ns },
    spec: { owner: 'alice', profile: profileName, ...spec },
  };
}

/** The lab `ns/name`. */
export function getLabIn(ns: string, name: string): Promise<Lab> {
  return kubectlJson<Lab>(['get', 'notebooklab', name, '-n', ns]);
}

/** The object `kind ns/name`, or undefined when there is none. */
export async function getObjectIn<T = Obj>(ns: string, kind: string, name: string): Promise<T | undefined> {
  try {
    return await kubectlJson<T>(['get', kind, name, '-n', ns]);
  } catch (err) {
    if (err instanceof ToolError && /NotFound|not found/.test(err.message)) return undefined;
    throw err;
  }
}

/** Names of the Events in `ns` about `involved` with `reason`. */
export async function eventNamesIn(ns: string, involved: string, reason: string): Promise<string[]> {
  const sel = `involvedObject.name=${involved},reason=${reason}`;
  const out = await kubectl(['get', 'events', '-n', ns, '--field-selector', sel, '-o', 'name']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** The lab's condition of `type`, if any. */
export const condOf = (l: Lab, type: string): Cond | undefined =>
  l.status?.conditions?.find((c) => c.type === type);

/** Waits until the lab `ns/name` reports `phase`; the error names its phase and conditions. */
export function waitPhaseIn(ns: string, name: string, phase: string, timeoutMs = 60_000): Promise<Lab> {
  return eventually(
    async () => {
      const l = await getLabIn(ns, name);
      if (l.status?.phase !== phase)
        throw new Error(
          `${name} phase ${l.status?.phase ?? '(none)'}, want ${phase}: ${l.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ') ?? ''}`,
        );
      return l;
    },
    { timeoutMs, description: `${name} ${phase}` },
  );
}
