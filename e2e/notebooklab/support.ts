// Shapes, fixtures, kubectl helpers and the shared set-up of the NotebookLab e2e tests.
import { eventually, kubectl, kubectlJson, ToolError } from '../cluster/index.js';
import { startActivityServer, type ActivityServer, type OperatorProcess } from '../operator/support.js';
import { operatorSuite } from '../operator/suite.js';

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

/** Kubectl helpers bound to one test namespace (the functions below with `ns` filled in). */
export function labClient(ns: () => string) {
  return {
    lab: (
      name: string,
      profileName: string,
      spec: Record<string, unknown> = {},
      annotations?: Record<string, string>,
    ): Record<string, unknown> => labObject(ns(), name, profileName, spec, annotations),
    apply: applyObject,
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
    getLab: (name: string): Promise<Lab> => getLabIn(ns(), name),
    getObj: <T = Obj>(kind: string, name: string): Promise<T | undefined> => getObjectIn<T>(ns(), kind, name),
    /** Names of the namespace's Events about `involved` with `reason`. */
    eventNames: (involved: string, reason: string): Promise<string[]> => eventNamesIn(ns(), involved, reason),
    /** Waits until the lab reports `phase`; the error names its phase and conditions. */
    waitPhase: (name: string, phase: string, timeoutMs?: number): Promise<Lab> =>
      waitPhaseIn(ns(), name, phase, timeoutMs),
    /** Waits until `check` passes on the lab (it throws to say what is missing). */
    waitLab(name: string, what: string, check: (l: Lab) => void, timeoutMs = 60_000): Promise<Lab> {
      return eventually(
        async () => {
          const l = await getLabIn(ns(), name);
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
async function applyObject(obj: unknown): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

/** One NotebookLab of owner alice (unless `spec` says otherwise) in namespace `ns`. */
function labObject(
  ns: string,
  name: string,
  profileName: string,
  spec: Record<string, unknown> = {},
  annotations?: Record<string, string>,
): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: { name, namespace: ns, ...(annotations === undefined ? {} : { annotations }) },
    spec: { owner: 'alice', profile: profileName, ...spec },
  };
}

/** The lab `ns/name`. */
function getLabIn(ns: string, name: string): Promise<Lab> {
  return kubectlJson<Lab>(['get', 'notebooklab', name, '-n', ns]);
}

/** The object `kind ns/name`, or undefined when there is none. */
async function getObjectIn<T = Obj>(ns: string, kind: string, name: string): Promise<T | undefined> {
  try {
    return await kubectlJson<T>(['get', kind, name, '-n', ns]);
  } catch (err) {
    if (err instanceof ToolError && /NotFound|not found/.test(err.message)) return undefined;
    throw err;
  }
}

/** Names of the Events in `ns` about `involved` with `reason`. */
async function eventNamesIn(ns: string, involved: string, reason: string): Promise<string[]> {
  const sel = `involvedObject.name=${involved},reason=${reason}`;
  const out = await kubectl(['get', 'events', '-n', ns, '--field-selector', sel, '-o', 'name']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** Waits until the lab `ns/name` reports `phase`; the error names its phase and conditions. */
function waitPhaseIn(ns: string, name: string, phase: string, timeoutMs = 60_000): Promise<Lab> {
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

/** Options of {@link labSuite}. */
export interface LabSuiteOptions {
  /** The file's unique run name: the operator's identity and Lease are named after it. */
  run: string;
  /** Prefix of the test namespace's name. */
  namespace: string;
  /** The NotebookProfiles the file creates, deleted at the end. */
  profiles: Record<string, string>;
  /** Applies the file's fixtures once the namespace exists, before the operator starts. */
  setUp?: (ns: string) => Promise<void>;
  /** Operator env; SKYPORT_ACTIVITY_URL_TEMPLATE defaults to the loopback activity server's. */
  env?: () => Record<string, string>;
  /** Operator arguments beyond `--lease-name=<run>`. */
  args?: (ns: string) => string[];
  /** Start the loopback activity server (default true). */
  activity?: boolean;
  /** Runs after the operator stopped, before the namespace is deleted. */
  tearDown?: () => Promise<void>;
}

/** Accessors of what {@link labSuite}'s hooks set up (valid once beforeAll ran). */
export interface LabSuite {
  ns(): string;
  op(): OperatorProcess;
  /** The activity server (throws when the suite was made without one). */
  activity(): ActivityServer;
  /** On the current test's failure, prints events, pods, the operator's log and the namespace's labs. */
  dumpOnFailure(): void;
}

/**
 * The set-up every NotebookLab e2e file shares, registered as its beforeAll/afterAll (call it at top level): the
 * chart, a test namespace with the file's fixtures, an activity server and one operator, ready on /readyz; at the
 * end the operator, the server, the namespace (unless SKYPORT_E2E_KEEP=1) and the file's profiles go.
 */
export function labSuite(opts: LabSuiteOptions): LabSuite {
  let activity: ActivityServer | undefined;
  let op: OperatorProcess | undefined;
  const suite = operatorSuite({
    namespace: opts.namespace,
    profiles: Object.values(opts.profiles),
    setUp: async (ns) => {
      if (opts.activity !== false) activity = await startActivityServer();
      await opts.setUp?.(ns);
      const env = {
        ...(activity === undefined ? {} : { SKYPORT_ACTIVITY_URL_TEMPLATE: activity.urlTemplate }),
        ...opts.env?.(),
      };
      op = await suite.start({
        identity: `${opts.run}-op`,
        args: [`--lease-name=${opts.run}`, ...(opts.args?.(ns) ?? [])],
        env,
      });
      const ready = op;
      await eventually(async () => (await ready.probe('/readyz')) === 200, {
        timeoutMs: 30_000,
        description: 'operator ready',
      });
    },
    tearDown: async () => {
      await activity?.close();
      await opts.tearDown?.();
    },
  });
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not set up (did beforeAll fail?)`);
    return v;
  };
  return {
    ns: suite.ns,
    op: () => must(op, 'the operator'),
    activity: () => must(activity, 'the activity server'),
    dumpOnFailure: suite.dumpOnFailure,
  };
}
