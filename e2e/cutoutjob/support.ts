// What the CutoutJob e2e files share: the object shape they read, kubectl shorthands in the suite's namespace, and
// playing the kubelet on kwok (a runner pod ends with a termination message, as the real runner's would), and the
// sample survey's index report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventually, kubectl, kubectlJson, repoRoot } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';

/** An object as these tests read it (fields each file looks at; the rest stays unknown). */
export interface Obj {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: unknown;
  subjects?: unknown;
  status?: Record<string, unknown> & {
    phase?: string;
    message?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    containerStatuses?: Record<string, unknown>[];
  };
}

/** kubectl shorthands in the namespace `ns()` names (the suite's, known once its beforeAll ran). */
export function cutoutKit(ns: () => string) {
  const apply = async (obj: unknown): Promise<void> => {
    await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(obj) });
  };
  const get = (kind: string, name: string): Promise<Obj> =>
    kubectlJson<Obj>(['get', kind, name, '-n', ns(), '-o', 'json']);
  const list = async (kind: string, selector: string): Promise<Obj[]> =>
    (await kubectlJson<{ items: Obj[] }>(['get', kind, '-n', ns(), '-l', selector, '-o', 'json'])).items;

  const waitFor = (
    kind: string,
    name: string,
    what: string,
    check: (o: Obj) => boolean,
    timeoutMs = 60_000,
  ) =>
    eventually(
      async () => {
        const o = await get(kind, name);
        if (!check(o)) throw new Error(`${kind}/${name} not ${what}: ${JSON.stringify(o.status)}`);
        return o;
      },
      { timeoutMs, description: `${kind}/${name} ${what}` },
    );

  const patchStatus = async (kind: string, name: string, status: Record<string, unknown>): Promise<void> => {
    await kubectl([
      'patch',
      kind,
      name,
      '-n',
      ns(),
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
  };

  /** Ends a pod as the kubelet would: Succeeded (or Failed), the container terminated with `message`. */
  const endPod = async (pod: Obj, message: string, exitCode = 0): Promise<void> => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cs = (pod.status?.containerStatuses ?? []).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          message,
          startedAt: now,
          finishedAt: now,
        },
      },
    }));
    await patchStatus('pod', pod.metadata.name, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: cs,
      conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: now }],
    });
  };

  /** Running pods of a Job (waits until there are `n`). */
  const runningPods = (job: string, n: number): Promise<Obj[]> =>
    eventually(
      async () => {
        const pods = (await list('pods', `batch.kubernetes.io/job-name=${job}`)).filter(
          (p) => p.status?.phase === 'Running',
        );
        if (pods.length < n) throw new Error(`${pods.length} running pods of ${job}, want ${n}`);
        return pods;
      },
      { timeoutMs: 60_000, description: `${n} running pods of ${job}` },
    );

  return { apply, get, list, waitFor, patchStatus, endPod, runningPods };
}

/** The sample survey written into a directory, with the runner's own reports on it. */
export interface SampleSurvey {
  stars: { id: string; ra: number; dec: number }[];
  index: unknown;
  /** The index report: the termination message a test gives an ImageCollection's indexing pod. */
  indexReport: string;
  /** The runner's plan step (`runPlan(spec, readIndex)`), for a plan Job's termination message. */
  runPlan: (spec: Record<string, unknown>, readIndex: () => unknown) => unknown;
}

/**
 * The small sample survey (3 × 3 tiles of 256 px, bands g r i around RA 0, Dec −30, a star a tile) written into
 * `dir` by the cutout runner's own generator, its index, the index report and the runner's planner.
 */
export async function sampleSurvey(dir: string): Promise<SampleSurvey> {
  const src = (p: string) => pathToFileURL(join(repoRoot, 'services/cutout-runner/src', p)).href;
  const gen = (await import(src('survey/generate.ts'))) as {
    generateSurvey: (o: Record<string, unknown>) => { stars: SampleSurvey['stars'] };
  };
  const idx = (await import(src('survey/tile-index.ts'))) as { buildIndex: (dir: string) => unknown };
  const main = (await import(src('main.ts'))) as { indexSummary: (index: unknown, path: string) => string };
  const plan = (await import(src('plan.ts'))) as { runPlan: SampleSurvey['runPlan'] };
  const { stars } = gen.generateSurvey({ dir, tileSize: 256, bands: ['g', 'r', 'i'], starsPerTile: 1 });
  const index = idx.buildIndex(dir);
  return { stars, index, indexReport: main.indexSummary(index, '/tiles/tiles.json'), runPlan: plan.runPlan };
}

/** The sample survey's index report alone (the survey written to a temporary directory and removed). */
export async function sampleIndexReport(): Promise<string> {
  const survey = mkdtempSync(join(tmpdir(), 'skyport-e2e-survey-'));
  try {
    return (await sampleSurvey(survey)).indexReport;
  } finally {
    rmSync(survey, { recursive: true, force: true });
  }
}

/** A runner pod's spec as these tests read it. */
export interface PodSpec {
  containers: { args: string[]; volumeMounts: Record<string, unknown>[] }[];
  volumes: Record<string, unknown>[];
}

/** The reason of an object's Ready condition. */
export const readyReason = (o: Obj): string | undefined =>
  o.status?.conditions?.find((c) => c.type === 'Ready')?.reason;

/**
 * The suite of a file whose CutoutJobs take positions from QueryJobs (fromQueryJob, COADD_OBJECT_ID lookups): an
 * operator suite whose namespace has the tiles, cutouts and query-results claims, the cluster-scoped Catalog
 * `catalog` deleted at tear-down, the kit in its namespace, and start/crash of an operator running the
 * imagecollection and cutoutjob controllers (no query controller: the tests write the QueryJobs' status).
 */
export function queryFedSuite(namespace: string, catalog: string) {
  const suite = operatorSuite({
    namespace,
    profiles: [],
    setUp: async (ns) => {
      for (const claim of ['des-tiles', 'des-cutouts', 'query-results'])
        await kit.apply({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claim, namespace: ns },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        });
    },
    tearDown: async () => {
      await kubectl(['delete', 'catalog', catalog, '--ignore-not-found', '--wait=false']).catch(
        () => undefined,
      );
    },
  });
  const kit = cutoutKit(() => suite.ns());
  const start = () =>
    suite.start({
      args: ['--controllers=imagecollection,cutoutjob'],
      env: { SKYPORT_CUTOUT_POD_ANNOTATION_PREFIXES: 'e2e.skyport.io/' },
    });
  /** Kills the operator running now (as a crash would). */
  const crash = async (): Promise<void> => {
    await suite.started[suite.started.length - 1]?.stop('SIGKILL');
  };
  /**
   * The Catalog `catalog` (its results on the query-results claim) and the ImageCollection `des` with `spec` added,
   * Ready once its indexing pod (ended by kwok without a report) is given the runner's `indexReport`.
   */
  const collectionReady = async (indexReport: string, spec: Record<string, unknown>): Promise<void> => {
    await kit.apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'Catalog',
      metadata: { name: catalog },
      spec: {
        release: 'Y6A2',
        database: { host: '127.0.0.1', database: 'des', credentials: { secretName: 'des-reader' } },
        results: { claimName: 'query-results' },
      },
    });
    await kit.apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'ImageCollection',
      metadata: { name: 'des', namespace: suite.ns() },
      spec: {
        source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
        results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
        ...spec,
      },
    });
    const c = await kit.waitFor('imagecollection', 'des', 'Failed', (o) => o.status?.phase === 'Failed');
    const [p] = await kit.list('pods', `batch.kubernetes.io/job-name=${String(c.status?.['indexJob'])}`);
    await kit.endPod(p!, indexReport);
    await kit.waitFor('imagecollection', 'des', 'Ready', (o) => o.status?.phase === 'Ready');
  };
  return { suite, kit, start, crash, collectionReady };
}
