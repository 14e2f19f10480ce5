// Tier "real": an AnomalyService whose managed Redis, API and workers run as real containers on the real node
// (images built by `npm run images`' code and imported into its containerd), the operator in-process as in the
// kwok e2e. Through the API's ClusterIP (kube-proxy's rules are in this host's netns) a dataset is uploaded,
// fitted and scored, and the scores equal an in-process fit of the same data and seed; `kubectl scale` takes the
// workers 1 → 3. Skipped unless the cluster has the real node (`npm run test:real`).
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, helm, kubectl, kubectlJson, repoRoot, uniqueName } from '../cluster/index.js';
import { importImage } from '../cluster/node/node.js';
import { anomalyService, apply, condOf, getSvc } from '../anomalyservice/support.js';
import { buildImages } from '../images/build.js';
import { imageRef } from '../images/spec.js';
import { operatorSuite } from '../operator/suite.js';
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

describe.skipIf(skipReason !== undefined)(
  `AnomalyService on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    it('runs Redis, API and workers as real containers; fit and score equal the engine; scales 1 → 3', async () => {
      suite.dumpOnFailure();
      const ns = suite.ns();
      const op = await suite.start({
        identity: `${run}-a`,
        args: [`--lease-name=${run}`, '--controllers=anomalyservice', `--namespaces=${ns}`],
        env: {
          SKYPORT_ANOMALY_IMAGE: imageRef('anomaly'),
          SKYPORT_ANOMALY_REDIS_IMAGE: imageRef('redis'),
          SKYPORT_ANOMALY_STATUS_INTERVAL: '2s',
        },
      });
      await eventually(async () => (await op.probe('/readyz')) === 200, {
        timeoutMs: 120_000,
        description: 'operator ready',
      });
      // Small requests: the real node has 2 CPUs, and 3 workers must fit beside Redis, the API and the labs' tests.
      const small = { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '1', memory: '512Mi' } };
      await apply(
        anomalyService(ns, 'real1', {
          api: { replicas: 1, resources: small },
          workers: { replicas: 1, threads: 2, resources: small },
          redis: { managed: { size: '1Gi', resources: small } },
        }),
      );
      await eventually(
        async () => {
          const s = await getSvc(ns, 'real1');
          return ['RedisReady', 'ApiReady', 'WorkersReady'].every((t) => condOf(s, t)?.status === 'True');
        },
        { timeoutMs: 150_000, intervalMs: 1000, description: 'Redis, API and workers ready' },
      );
      const pods = await kubectlJson<{ items: { spec: { nodeName?: string } }[] }>(['get', 'pods', '-n', ns]);
      expect(pods.items.length).toBeGreaterThanOrEqual(3);
      for (const p of pods.items) expect(p.spec.nodeName).toBe('skyport-node');

      const secret = await kubectlJson<{ data: Record<string, string> }>([
        'get',
        'secret',
        'real1-tokens',
        '-n',
        ns,
      ]);
      const token =
        Buffer.from(secret.data['TOKENS'] ?? '', 'base64')
          .toString('utf8')
          .split('=')[1] ?? '';
      const ip = (
        await kubectl(['get', 'svc', 'real1-api', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])
      ).trim();
      const port = (
        await kubectl(['get', 'svc', 'real1-api', '-n', ns, '-o', 'jsonpath={.spec.ports[0].port}'])
      ).trim();
      const call = (path: string, init: RequestInit = {}): Promise<Response> =>
        fetch(`http://${ip}:${port}${path}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
        });

      const data = dataset();
      const up = await eventually(
        async () => {
          const r = await call('/v1/datasets', {
            method: 'POST',
            headers: { 'content-type': 'text/csv' },
            body: csv(data),
          });
          return r.status === 201 ? ((await r.json()) as { id: string; rows: number }) : false;
        },
        { timeoutMs: 60_000, intervalMs: 1000, description: 'dataset uploaded through the Service' },
      );
      expect(up.rows).toBe(ROWS);
      const fr = await call('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ datasetId: up.id, params: PARAMS }),
      });
      expect(fr.status).toBe(202);
      const jobId = ((await fr.json()) as { id: string }).id;
      const job = await eventually(
        async () => {
          const j = (await (await call(`/v1/jobs/${jobId}`)).json()) as Record<string, unknown>;
          return j['phase'] === 'COMPLETED' || j['phase'] === 'ERROR' ? j : false;
        },
        { timeoutMs: 90_000, intervalMs: 500, description: 'fit job done by a worker container' },
      );
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
    });
  },
);
