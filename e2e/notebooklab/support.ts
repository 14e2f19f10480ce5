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
    deletionTimestamp?: string;
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

/** Kubectl helpers bound to one test namespace (for test files beside notebooklab.e2e.test.ts). */
export function labClient(ns: () => string) {
  return {
    lab(name: string, profileName: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
      return {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookLab',
        metadata: { name, namespace: ns() },
        spec: { owner: 'alice', profile: profileName, ...spec },
      };
    },
    async apply(obj: unknown): Promise<void> {
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
    },
    async patchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
      await kubectl([
        'patch',
        'notebooklab',
        name,
        '-n',
        ns(),
        '--type=merge',
        '-p',
        JSON.stringify({ spec }),
      ]);
    },
    getLab(name: string): Promise<Lab> {
      return kubectlJson<Lab>(['get', 'notebooklab', name, '-n', ns()]);
    },
    async getObj(kind: string, name: string): Promise<Obj | undefined> {
      try {
        return await kubectlJson<Obj>(['get', kind, name, '-n', ns()]);
      } catch (err) {
        if (err instanceof ToolError && /NotFound|not found/.test(err.message)) return undefined;
        throw err;
      }
    },
    /** Names of the namespace's Events about `involved` with `reason`. */
    async eventNames(involved: string, reason: string): Promise<string[]> {
      const sel = `involvedObject.name=${involved},reason=${reason}`;
      const out = await kubectl(['get', 'events', '-n', ns(), '--field-selector', sel, '-o', 'name']);
      return out.split('\n').filter((l) => l.trim() !== '');
    },
    /** Waits until `check` passes on the lab (it throws to say what is missing). */
    waitLab(name: string, what: string, check: (l: Lab) => void, timeoutMs = 60_000): Promise<Lab> {
      return eventually(
        async () => {
          const l = await kubectlJson<Lab>(['get', 'notebooklab', name, '-n', ns()]);
          check(l);
          return l;
        },
        { timeoutMs, description: `${name} ${what}` },
      );
    },
  };
}

/** The lab's condition of `type`. */
export const condOf = (l: Lab, type: string): Cond | undefined =>
  l.status?.conditions?.find((c) => c.type === type);

/** Throws unless the lab is in `phase` (for {@link labClient}'s `waitLab`). */
export function inPhase(phase: string): (l: Lab) => void {
  return (l) => {
    if (l.status?.phase !== phase)
      throw new Error(
        `phase ${l.status?.phase ?? '(none)'}, want ${phase}: ${l.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ') ?? ''}`,
      );
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
