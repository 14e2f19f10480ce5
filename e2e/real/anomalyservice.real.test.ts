// Tier "real": an AnomalyService whose managed Redis, API and workers run as real containers on the real node
// (images built by `npm run images`' code and imported into its containerd), the operator in-process as in the
// kwok e2e. Through the API's ClusterIP (kube-proxy's rules are in this host's netns) a dataset is uploaded,
// fitted and scored, and the scores equal an in-process fit of the same data and seed; `kubectl scale` takes the
// workers 1 → 3, and all three take tasks of one fit job; a worker Pod deleted mid-task has its task taken over
// by another and the job's scores equal the engine's; a Redis Pod deleted comes back from the AOF on its PVC with a
// queued job, its data and its waiting tasks, and the job completes; a burst of score jobs scales the workers up to
// maxReplicas by queue depth and, once the queue is empty, back down after the stabilisation window. Skipped unless
// the cluster has the real node (`npm run test:real`).
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, helm, kubectl, kubectlJson, repoRoot, uniqueName } from '../cluster/index.js';
import { importImage } from '../cluster/node/node.js';
import { anomalyService, apply, getSvc } from '../anomalyservice/support.js';
import { buildImages } from '../images/build.js';
import { imageRef } from '../images/spec.js';
import { operatorSuite } from '../operator/suite.js';
import {
  apiClient,
  jobDone,
  poolStatus,
  ready,
  scoresOf,
  submitScore,
  tasksByPod,
  upload,
  workerPods,
  type Api,
} from './anomaly-api.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = await realNodeSkipReason(kubeconfig);

/** The part of the anomaly engine (services/anomaly/src/engine) this test runs in-process. */
interface ForestParams {
  ntrees: number;
  sampleSize: number;
  extensionLevel: number;
  seed: number;
}
interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}
interface Engine {
  fit(data: Matrix, params: ForestParams): unknown;
  score(model: unknown, data: Matrix): Float64Array;
}
/** Loaded by URL: e2e's TypeScript project does not include the service's sources; vitest compiles them. */
const engine = (await import(
  pathToFileURL(join(repoRoot, 'services/anomaly/src/engine/index.ts')).href
)) as Engine;

const COLS = 3;
const ROWS = 600;
const PARAMS: ForestParams = { ntrees: 40, sampleSize: 64, extensionLevel: 0, seed: 11 };

/** Deterministic data (mulberry32), every 50th row far out. */
function dataset(): Float64Array {
  let a = 7;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(ROWS * COLS);
  for (let i = 0; i < out.length; i++) out[i] = (Math.floor(i / COLS) % 50 === 49 ? 8 : 1) * (rnd() - 0.5);
  return out;
}

/** `rows` × 3 deterministic values with 4 decimals (a few MB of CSV). */
function bigCsv(rows: number): string {
  let a = 3;
  const lines = ['f0,f1,f2'];
  for (let r = 0; r < rows; r++) {
    const v: string[] = [];
    for (let c = 0; c < 3; c++) {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      v.push(((a / 4294967296) * 2 - 1).toFixed(4));
    }
    lines.push(v.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csv(m: Float64Array): string {
  const lines = [Array.from({ length: COLS }, (_, c) => `f${c}`).join(',')];
  for (let r = 0; r < ROWS; r++) lines.push(Array.from(m.subarray(r * COLS, (r + 1) * COLS)).join(','));
  return `${lines.join('\n')}\n`;
}

const run = uniqueName('asr');
// The chart's own operator Deployment would wait on the real node for an image it cannot pull: install the chart
// (CRDs, ServiceAccount, RBAC) without --wait first, so operatorSuite finds it installed.
beforeAll(async () => {
  if (skipReason !== undefined) return;
  const installed = await helm(['status', 'skyport', '-n', 'skyport-system']).then(
    () => true,
    () => false,
  );
  if (!installed)
    await helm([
      'install',
      'skyport',
      join(repoRoot, 'charts', 'skyport'),
      '-n',
      'skyport-system',
      '--create-namespace',
    ]);
});
const suite = operatorSuite({
  namespace: 'anomaly-real',
  profiles: [],
  setUp: async () => {
    const built = await buildImages({ names: ['anomaly', 'redis'], log: () => undefined });
    for (const name of ['anomaly', 'redis']) {
      const o = built.find((b) => b.name === name);
      if (o === undefined) throw new Error(`image ${name} was not built`);
      await importImage(dirname(kubeconfig), o.archive);
    }
  },
});

let started: Promise<void> | undefined;
/** The file's one operator (in-process, as in the kwok e2e), started by the first test that needs it. */
function operator(): Promise<void> {
  started ??= (async () => {
    const op = await suite.start({
      identity: `${run}-a`,
      args: [`--lease-name=${run}`, '--controllers=anomalyservice', `--namespaces=${suite.ns()}`],
      env: {
        SKYPORT_ANOMALY_IMAGE: imageRef('anomaly'),
        SKYPORT_ANOMALY_REDIS_IMAGE: imageRef('redis'),
        SKYPORT_ANOMALY_STATUS_INTERVAL: '2s',
        // This process runs on the host: it reaches Service IPs (kube-proxy's rules are in this netns) but not
        // cluster DNS, so it reads /v1/status at the API Service's cluster IP.
        SKYPORT_ANOMALY_STATUS_URL_TEMPLATE: 'http://{clusterIP}:8080/v1/status',
      },
    });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 120_000,
      description: 'operator ready',
    });
  })();
  return started;
}

/** Small requests: the real node has 2 CPUs, and 3 workers must fit beside Redis, the API and other tests' pods. */
const SMALL = { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '1', memory: '512Mi' } };

/** real1 once the first test has scaled it to 3 workers; the next three tests go on with it. */
let real1: { ns: string; call: Api } | undefined;
/** The dataset and the 12-partition model of the "all three workers" test, used by the two after it. */
let big: { data: Float64Array; datasetId: string; modelId: string; scores?: Float64Array } | undefined;

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} is missing: an earlier test of this file failed`);
  return v;
}

/** 100,000 rows: two stored chunks of the API's 50,000 (its CHUNK_ROWS default). */
const BIG_ROWS = 100_000;
/** 1,000 trees with hyperplane splits: a 50,000-row score task takes seconds in a 1-CPU worker container. */
const BIG_PARAMS: ForestParams = { ntrees: 1000, sampleSize: 256, extensionLevel: 2, seed: 23 };
const FIT_PARTITIONS = 12;

/** The values of a headed CSV, row-major, as the API reads them. */
function parseCsv(text: string): Float64Array {
  const lines = text.trimEnd().split('\n').slice(1);
  const out = new Float64Array(lines.length * COLS);
  let i = 0;
  for (const line of lines) for (const v of line.split(',')) out[i++] = Number(v);
  return out;
}

/** Every 7th score of `remote` against the in-process engine's fit of the same data and parameters. */
function expectEngineScores(remote: Float64Array, data: Float64Array): void {
  expect(remote.length).toBe(BIG_ROWS);
  const idx = Array.from({ length: Math.ceil(BIG_ROWS / 7) }, (_, k) => k * 7);
  const sample = new Float64Array(idx.length * COLS);
  idx.forEach((r, k) => sample.set(data.subarray(r * COLS, (r + 1) * COLS), k * COLS));
  const model = engine.fit({ data, rows: BIG_ROWS, cols: COLS }, BIG_PARAMS);
  const local = engine.score(model, { data: sample, rows: idx.length, cols: COLS });
  expect(idx.map((r) => remote[r])).toEqual(Array.from(local));
}

describe.skipIf(skipReason !== undefined)(
  `AnomalyService on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    it('runs Redis, API and workers as real containers; fit and score equal the engine; scales 1 → 3', async () => {
      suite.dumpOnFailure();
      const ns = suite.ns();
      await operator();
      await apply(
        anomalyService(ns, 'real1', {
          api: { replicas: 1, resources: SMALL },
          workers: { replicas: 1, threads: 2, resources: SMALL },
          redis: { managed: { size: '1Gi', resources: SMALL } },
        }),
      );
      await ready(ns, 'real1');
      const pods = await kubectlJson<{ items: { spec: { nodeName?: string } }[] }>(['get', 'pods', '-n', ns]);
      expect(pods.items.length).toBeGreaterThanOrEqual(3);
      for (const p of pods.items) expect(p.spec.nodeName).toBe('skyport-node');

      const call = await apiClient(ns, 'real1');
      const data = dataset();
      const up = await upload(call, csv(data));
      expect(up.rows).toBe(ROWS);
      const fr = await call('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ datasetId: up.id, params: PARAMS }),
      });
      expect(fr.status).toBe(202);
      const jobId = ((await fr.json()) as { id: string }).id;
      const job = await jobDone(call, jobId);
      expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
      const modelId = (job['result'] as { modelId: string }).modelId;
      const rows = 40;
      const sample = data.slice(0, rows * COLS);
      const remote = (await (
        await call(`/v1/models/${modelId}/score`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            data: Array.from({ length: rows }, (_, r) =>
              Array.from(sample.subarray(r * COLS, (r + 1) * COLS)),
            ),
          }),
        })
      ).json()) as { scores: number[] };
      const local = engine.score(engine.fit({ data, rows: ROWS, cols: COLS }, PARAMS), {
        data: sample,
        rows,
        cols: COLS,
      });
      expect(remote.scores).toEqual(Array.from(local));

      await kubectl(['scale', 'anomalyservice/real1', '-n', ns, '--replicas=3']);
      await eventually(
        async () => {
          const d = await kubectlJson<{ status: { readyReplicas?: number } }>([
            'get',
            'deployment',
            'real1-workers',
            '-n',
            ns,
          ]);
          return d.status.readyReplicas === 3;
        },
        { timeoutMs: 120_000, intervalMs: 1000, description: '3 ready worker containers' },
      );
      // The operator reads the pool status from the running API (no StatusUnreachable): the one model stored.
      await eventually(
        async () => {
          const st = (await getSvc(ns, 'real1')).status as { modelsStored?: number } | undefined;
          return st?.modelsStored === 1;
        },
        { timeoutMs: 60_000, intervalMs: 1000, description: 'status.modelsStored 1 from GET /v1/status' },
      );
      // The next three tests go on with these three workers (the last one deletes real1).
      real1 = { ns, call };
    });

    it('all three workers take tasks of one 12-task fit job', async () => {
      suite.dumpOnFailure();
      const { ns, call } = need(real1, 'real1 with 3 workers');
      const text = bigCsv(BIG_ROWS);
      const up = await upload(call, text);
      expect(up.rows).toBe(BIG_ROWS);
      const fr = await call('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // An explicit threshold: no scoring of the training data in the fan-in task.
        body: JSON.stringify({
          datasetId: up.id,
          params: BIG_PARAMS,
          partitions: FIT_PARTITIONS,
          threshold: 0.6,
        }),
      });
      expect(fr.status).toBe(202);
      const fitId = ((await fr.json()) as { id: string }).id;
      const fit = await jobDone(call, fitId, 120_000);
      expect(fit['phase'], JSON.stringify(fit)).toBe('COMPLETED');
      const byPod = await tasksByPod(ns, 'real1', fitId);
      expect(byPod.size).toBe(3);
      const blocks = new Set<string>();
      for (const [pod, tasks] of byPod) {
        const mine = [...tasks].filter(([, t]) => t.kind === 'fit-block' && t.finished).map(([id]) => id);
        expect(mine.length, `${pod} finished no tree block of ${fitId}`).toBeGreaterThan(0);
        for (const id of mine) blocks.add(id);
      }
      expect(blocks.size).toBe(FIT_PARTITIONS);
      big = {
        data: parseCsv(text),
        datasetId: up.id,
        modelId: (fit['result'] as { modelId: string }).modelId,
      };
    });

    it('a worker Pod deleted mid-task: another worker takes the task over; the job completes with the engine scores', async () => {
      suite.dumpOnFailure();
      const { ns, call } = need(real1, 'real1 with 3 workers');
      const b = need(big, 'the 100,000-row dataset and its model');
      const id = await submitScore(call, b.modelId, b.datasetId);
      // A Pod that has started one of the two chunk tasks and not finished it yet.
      const victim = await eventually(
        async () => {
          for (const [pod, tasks] of await tasksByPod(ns, 'real1', id))
            for (const [task, t] of tasks) if (t.kind === 'score-chunk' && !t.finished) return { pod, task };
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 200, description: `a worker running a score task of ${id}` },
      );
      await kubectl(['delete', 'pod', victim.pod, '-n', ns, '--grace-period=0', '--force']);
      const job = await jobDone(call, id, 180_000);
      expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
      // Its lock expired and another worker ran the task again: the deleted Pod had not finished it.
      const after = await tasksByPod(ns, 'real1', id);
      expect(after.has(victim.pod)).toBe(false);
      const takers = [...after].filter(([, tasks]) => tasks.get(victim.task)?.finished === true);
      expect(takers.length, `${victim.task} finished by ${takers.map(([p]) => p).join(', ')}`).toBe(1);
      const scores = await scoresOf(call, id);
      expectEngineScores(scores, b.data);
      b.scores = scores;
    });

    it('Redis Pod deleted: its AOF brings back a queued job, its dataset, model and tasks; the job completes', async () => {
      suite.dumpOnFailure();
      const { ns, call } = need(real1, 'real1 with 3 workers');
      try {
        const b = need(big, 'the 100,000-row dataset and its model');
        const want = need(b.scores, 'the scores of the previous test');
        // No workers: the job stays queued across the restart. Terminating Pods count: a worker still running in one
        // took the job's tasks once (queue depth 0 below).
        await kubectl(['scale', 'anomalyservice/real1', '-n', ns, '--replicas=0']);
        await eventually(async () => (await workerPods(ns, 'real1', { terminating: true })).length === 0, {
          timeoutMs: 90_000,
          intervalMs: 1000,
          description: 'no worker Pods',
        });
        const id = await submitScore(call, b.modelId, b.datasetId);
        const before = await poolStatus(call);
        expect(before.queueDepth).toBeGreaterThanOrEqual(2); // the job's two chunk tasks
        const uidOf = async (kind: string, n: string): Promise<string> =>
          (await kubectl(['get', kind, n, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
        const pvc = await uidOf('pvc', 'data-real1-redis-0');
        const pod = await uidOf('pod', 'real1-redis-0');
        // A plain delete: Redis gets SIGTERM and fsyncs its AOF (RDB snapshots are off: the AOF is all it has).
        await kubectl(['delete', 'pod', 'real1-redis-0', '-n', ns, '--wait=true', '--timeout=60s']);
        await eventually(
          async () => {
            const p = await kubectlJson<{
              metadata: { uid: string };
              status: { conditions?: { type: string; status: string }[] };
            }>(['get', 'pod', 'real1-redis-0', '-n', ns]);
            return (
              p.metadata.uid !== pod &&
              p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
            );
          },
          { timeoutMs: 120_000, intervalMs: 1000, description: 'a new Redis Pod ready' },
        );
        expect(await uidOf('pvc', 'data-real1-redis-0')).toBe(pvc);
        // The broker's waiting tasks, read through the API once it has reconnected.
        const back = await eventually(async () => poolStatus(call), {
          timeoutMs: 90_000,
          intervalMs: 1000,
          description: 'GET /v1/status after the Redis restart',
        });
        expect(back.queueDepth).toBe(before.queueDepth);
        const rec = (await (await call(`/v1/jobs/${id}`)).json()) as { phase: string };
        expect(rec.phase).toBe('QUEUED');
        expect((await call(`/v1/datasets/${b.datasetId}`)).status).toBe(200);
        expect((await call(`/v1/models/${b.modelId}`)).status).toBe(200);
        await kubectl(['scale', 'anomalyservice/real1', '-n', ns, '--replicas=1']);
        const job = await jobDone(call, id, 150_000);
        expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
        expect(Array.from(await scoresOf(call, id))).toEqual(Array.from(want));
      } finally {
        await kubectl(['delete', 'anomalyservice', 'real1', '-n', ns, '--wait=true', '--timeout=120s']);
      }
    });

    it('autoscaling follows a real burst of score jobs up to max and back down after the window', async () => {
      suite.dumpOnFailure();
      const ns = suite.ns();
      await operator();
      await apply(
        anomalyService(ns, 'auto1', {
          api: { replicas: 1, resources: SMALL },
          workers: { replicas: 1, threads: 1, resources: SMALL },
          redis: { managed: { size: '1Gi', resources: SMALL } },
          autoscaling: {
            minReplicas: 1,
            maxReplicas: 3,
            targetQueueDepthPerWorker: 2,
            scaleDownStabilizationSeconds: 10,
          },
        }),
      );
      await ready(ns, 'auto1');
      const call = await apiClient(ns, 'auto1');
      // 200,000 rows: 4 score tasks of 50,000 rows (the API's chunk) per score job.
      const big = await upload(call, bigCsv(200_000));
      expect(big.rows).toBe(200_000);
      const fr = await call('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          datasetId: big.id,
          params: { ntrees: 200, sampleSize: 256, extensionLevel: 2, seed: 5 },
        }),
      });
      expect(fr.status).toBe(202);
      const fit = await jobDone(call, ((await fr.json()) as { id: string }).id);
      expect(fit['phase'], JSON.stringify(fit)).toBe('COMPLETED');
      const modelId = (fit['result'] as { modelId: string }).modelId;

      type Scale = { reason: string; replicas: number; queueDepth: number; time: string };
      const lastScale = async (): Promise<Scale | undefined> =>
        ((await getSvc(ns, 'auto1')).status as { lastScale?: Scale } | undefined)?.lastScale;
      const workers = async (): Promise<{ spec: number; ready: number }> => {
        const d = await kubectlJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>([
          'get',
          'deployment',
          'auto1-workers',
          '-n',
          ns,
        ]);
        return { spec: d.spec.replicas, ready: d.status.readyReplicas ?? 0 };
      };
      // The fit's own tasks may have scaled the workers up: the burst starts from one worker again.
      await eventually(
        async () => (await workers()).spec === 1 && (await lastScale())?.reason !== 'ScaledUp',
        {
          timeoutMs: 90_000,
          intervalMs: 1000,
          description: 'one worker before the burst',
        },
      );
      const burstAt = Math.floor(Date.now() / 1000) * 1000;
      // Watched while the burst is posted: a loaded machine can take seconds over the 12 requests, and the
      // scale-up shows in status only until the queue drains.
      const up = eventually(
        async () => {
          const l = await lastScale();
          return l?.reason === 'ScaledUp' && l.replicas === 3 && Date.parse(l.time) >= burstAt ? l : false;
        },
        { timeoutMs: 60_000, intervalMs: 250, description: 'scaled up to maxReplicas by the queue depth' },
      );
      up.catch(() => undefined); // awaited below; a failed POST must not leave it unhandled
      // The burst: 12 score jobs at once (48 tasks) against one single-threaded worker.
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await call(`/v1/models/${modelId}/score-dataset`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ datasetId: big.id }),
        });
        expect(r.status).toBe(202);
        ids.push(((await r.json()) as { id: string }).id);
      }
      const scaled = await up;
      expect(scaled.queueDepth).toBeGreaterThan(4); // ceil(depth / 2) > 2 workers
      expect((await workers()).spec).toBe(3);
      for (const id of ids) {
        const j = await jobDone(call, id, 180_000);
        expect(j['phase'], JSON.stringify(j)).toBe('COMPLETED');
      }
      // Queue empty: held for the stabilisation window, then back to minReplicas.
      const down = await eventually(
        async () => {
          const st = (await getSvc(ns, 'auto1')).status as { lastScale?: Scale } | undefined;
          return st?.lastScale?.reason === 'ScaledDown' && st.lastScale.replicas === 1 ? st.lastScale : false;
        },
        { timeoutMs: 90_000, intervalMs: 1000, description: 'scaled back down to minReplicas' },
      );
      expect(down.queueDepth).toBe(0);
      await eventually(async () => (await workers()).ready === 1 && (await workers()).spec === 1, {
        timeoutMs: 60_000,
        intervalMs: 1000,
        description: 'one worker left',
      });
      const events = await kubectl([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        'involvedObject.name=auto1',
        '-o',
        'jsonpath={.items[*].reason}',
      ]);
      expect(events).toMatch(/ScaledUp/);
      expect(events).toMatch(/ScaledDown/);
    });
  },
);
