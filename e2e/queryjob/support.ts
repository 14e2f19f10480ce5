// Set-up and helpers of the QueryJob e2e tests: a PostgreSQL with a per-file database holding a small sample
// catalog and a read-only role, a Catalog pointing at it, its Secret in the test namespace, and kubectl helpers
// that play the kubelet for the runner's pods (kube-controller-manager's Job controller does the rest).
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { loadSample } from '../../services/query-runner/src/sample/load.js';
import { eventually, kubectl, kubectlJson, uniqueName } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { startPostgres, type ServiceHandle } from '../services/index.js';

/** Rows of the sample table each file loads. */
export const SAMPLE_ROWS = 2000;
/** The read-only role and its password (the test server trusts loopback; the operator still reads the Secret). */
export const READER = { user: 'reader', password: 'reader-password' } as const;

export interface QueryJobObj {
  metadata: { name: string; uid: string; generation: number };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    quote?: { estimatedRows: number; estimatedBytes: number; cost: number };
    error?: { type: string; code: string; message: string };
    conditions?: { type: string; status: string; reason: string; observedGeneration?: number }[];
    jobName?: string;
    attempts?: number;
    rows?: number;
    overflow?: boolean;
    results?: { name: string; format: string; bytes: number; sha256: string; rows?: number }[];
    executionDuration?: number;
    maxRecords?: number;
    startTime?: string;
    endTime?: string;
    destruction?: string;
  };
}

export interface JobObj {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string; uid: string }[] };
  spec: Record<string, unknown> & {
    activeDeadlineSeconds?: number;
    backoffLimit?: number;
    template: {
      metadata?: { labels?: Record<string, string> };
      spec: {
        containers: { name: string; image: string; env?: { name: string; value?: string }[] }[];
        securityContext?: Record<string, unknown>;
      };
    };
  };
  status?: { conditions?: { type: string; status: string; reason?: string }[]; failed?: number };
}

interface PodObj {
  metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string };
}

/**
 * Registers the file's hooks: operator suite, PostgreSQL and sample, Catalog, Secret. `results` replaces the
 * Catalog's spec.results (a claim no pod ever mounts by default); a function is called when the Catalog is made.
 */
export function queryJobSuite(
  prefix: string,
  opts: { results?: Record<string, unknown> | (() => Record<string, unknown>) } = {},
) {
  const catalog = uniqueName(`${prefix}-cat`);
  const database = uniqueName('qj').replace(/-/g, '_');
  let db: ServiceHandle | undefined;
  const suite = operatorSuite({
    namespace: prefix,
    profiles: [],
    setUp: async (ns) => {
      await kubectl([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/queryjobs.skyport.io',
        'crd/catalogs.skyport.io',
      ]);
      await applyObject({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'des-reader', namespace: ns },
        type: 'kubernetes.io/basic-auth',
        stringData: { username: READER.user, password: READER.password },
      });
    },
    tearDown: async () => {
      await kubectl(['delete', 'catalog', catalog, '--ignore-not-found', '--wait=false']).catch(
        () => undefined,
      );
    },
  });

  beforeAll(async () => {
    db = await startPostgres();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(`CREATE ROLE ${READER.user} LOGIN PASSWORD '${READER.password}'`);
    } finally {
      await admin.end();
    }
    const c = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${database}`) });
    await c.connect();
    try {
      await loadSample(c, { table: 'des_sample', rows: SAMPLE_ROWS });
      await c.query(`GRANT SELECT ON des_sample TO ${READER.user}`);
    } finally {
      await c.end();
    }
    await applyObject({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'Catalog',
      metadata: { name: catalog },
      spec: {
        release: 'Y6A2',
        database: { host: '127.0.0.1', port: db.port, database, credentials: { secretName: 'des-reader' } },
        tables: ['public.des_sample'],
        // No such claim exists in the test namespace: the runner pods are never scheduled, so kwok leaves them
        // alone and the test sets their status as the kubelet would.
        results: (typeof opts.results === 'function' ? opts.results() : opts.results) ?? {
          claimName: 'query-results',
        },
        limits: { maxEstimatedRows: 1_000_000, maxExecutionDuration: '1h', maxConcurrentJobsPerUser: 1 },
      },
    });
  });

  afterAll(async () => {
    await db?.stop({ removeData: true });
  });

  return { ...suite, catalog: () => catalog, database: () => database, db: () => db };
}

/** kubectl apply of one object. */
export async function applyObject(obj: Record<string, unknown>): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

/** A QueryJob manifest. */
export function queryJob(
  ns: string,
  name: string,
  catalog: string,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'QueryJob',
    metadata: { name, namespace: ns },
    spec: { owner: 'jsmith', catalogRef: { name: catalog }, ...spec },
  };
}

export function getQueryJob(ns: string, name: string): Promise<QueryJobObj> {
  return kubectlJson<QueryJobObj>(['get', 'queryjob', name, '-n', ns]);
}

/** Waits until the QueryJob's status.phase is `phase`; returns it. */
export function phaseOf(ns: string, name: string, phase: string, timeoutMs = 120_000): Promise<QueryJobObj> {
  return eventually(
    async () => {
      const q = await getQueryJob(ns, name);
      if (q.status?.phase !== phase)
        throw new Error(`phase ${q.status?.phase ?? '-'} (want ${phase}): ${JSON.stringify(q.status ?? {})}`);
      return q;
    },
    { timeoutMs, description: `${name} reaches ${phase}` },
  );
}

/** Jobs in the namespace owned by the QueryJob with `uid`. */
export async function jobsOf(ns: string, uid: string): Promise<JobObj[]> {
  const list = await kubectlJson<{ items: JobObj[] }>(['get', 'jobs', '-n', ns]);
  return list.items.filter((j) => j.metadata.ownerReferences?.some((o) => o.uid === uid));
}

/** The runner pods of a QueryJob (not being deleted), oldest first. */
export async function podsOf(ns: string, uid: string, component = 'runner'): Promise<PodObj[]> {
  const list = await kubectlJson<{ items: PodObj[] }>([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `skyport.io/owner-uid=${uid},app.kubernetes.io/component=${component}`,
    '--sort-by=.metadata.creationTimestamp',
  ]);
  return list.items.filter((p) => p.metadata.deletionTimestamp === undefined);
}

/** Waits for the `n`th (1-based) pod of a QueryJob's Job and returns it. */
export function nthPod(ns: string, uid: string, n: number, component = 'runner'): Promise<PodObj> {
  return eventually(
    async () => {
      const pods = await podsOf(ns, uid, component);
      const p = pods[n - 1];
      if (p === undefined) throw new Error(`${pods.length} pods`);
      return p;
    },
    { timeoutMs: 60_000, description: `${component} pod #${n}` },
  );
}

const CONTAINER = { runner: 'runner', cleanup: 'cleanup' } as const;

/** Sets a pod's status as the kubelet would: running. */
export async function podRunning(
  ns: string,
  pod: string,
  component: keyof typeof CONTAINER = 'runner',
): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await patchPodStatus(ns, pod, {
    phase: 'Running',
    startTime: now,
    containerStatuses: [
      {
        name: CONTAINER[component],
        image: 'localhost/skyport/query-runner:dev',
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      },
    ],
  });
}

/** Sets a pod's status as the kubelet would: the container ended with `exitCode` and termination `message`. */
export async function podExited(
  ns: string,
  pod: string,
  exitCode: number,
  message: string,
  component: keyof typeof CONTAINER = 'runner',
): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await patchPodStatus(ns, pod, {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    startTime: now,
    containerStatuses: [
      {
        name: CONTAINER[component],
        image: 'localhost/skyport/query-runner:dev',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode,
            reason: exitCode === 0 ? 'Completed' : 'Error',
            message,
            startedAt: now,
            finishedAt: now,
          },
        },
      },
    ],
  });
}

async function patchPodStatus(ns: string, pod: string, status: Record<string, unknown>): Promise<void> {
  await kubectl([
    'patch',
    'pod',
    pod,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** The runner's termination message for a completed run (services/query-runner/src/termination.ts). */
export function completedMessage(rows: number): string {
  const sha = 'c0ffee'.padEnd(64, '0');
  return JSON.stringify({
    rows,
    bytes: 1234,
    overflow: false,
    files: [
      { name: 'result.csv', mediaType: 'text/csv', rows, bytes: 1234, sha256: sha },
      { name: 'result.provenance.json', mediaType: 'application/json', rows: 0, bytes: 800, sha256: sha },
    ],
  });
}
