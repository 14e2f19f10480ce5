// The AnomalyService API and worker Pods as e2e/real/anomalyservice.real.test.ts sees them from the host: the API
// through its Service's ClusterIP (kube-proxy's rules are in this host's netns; no cluster DNS here) with the
// generated token, and the tasks each worker Pod ran read from its log.
import { eventually, kubectl, kubectlJson } from '../cluster/index.js';
import { condOf, getSvc } from '../anomalyservice/support.js';

/** A client of service `name`'s API through its ClusterIP, with the generated token. */
export async function apiClient(
  ns: string,
  name: string,
): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const secret = await kubectlJson<{ data: Record<string, string> }>([
    'get',
    'secret',
    `${name}-tokens`,
    '-n',
    ns,
  ]);
  const token =
    Buffer.from(secret.data['TOKENS'] ?? '', 'base64')
      .toString('utf8')
      .split('=')[1] ?? '';
  const ip = (
    await kubectl(['get', 'svc', `${name}-api`, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim();
  const port = (
    await kubectl(['get', 'svc', `${name}-api`, '-n', ns, '-o', 'jsonpath={.spec.ports[0].port}'])
  ).trim();
  return (path, init = {}) =>
    fetch(`http://${ip}:${port}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });
}

/** What apiClient returns: fetch of an API path. */
export type Api = Awaited<ReturnType<typeof apiClient>>;

/** Waits until Redis, API and workers of `name` are Ready. */
export async function ready(ns: string, name: string): Promise<void> {
  await eventually(
    async () => {
      const s = await getSvc(ns, name);
      return ['RedisReady', 'ApiReady', 'WorkersReady'].every((t) => condOf(s, t)?.status === 'True');
    },
    { timeoutMs: 150_000, intervalMs: 1000, description: `${name}: Redis, API and workers ready` },
  );
}

/** Uploads `body` (CSV) as a dataset, retrying until the API answers; its id. */
export async function upload(call: Api, body: string): Promise<{ id: string; rows: number }> {
  return eventually(
    async () => {
      const r = await call('/v1/datasets', { method: 'POST', headers: { 'content-type': 'text/csv' }, body });
      return r.status === 201 ? ((await r.json()) as { id: string; rows: number }) : false;
    },
    { timeoutMs: 60_000, intervalMs: 1000, description: 'dataset uploaded through the Service' },
  );
}

/** Polls job `id` until it ends; its view. */
export async function jobDone(call: Api, id: string, timeoutMs = 90_000): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const j = (await (await call(`/v1/jobs/${id}`)).json()) as Record<string, unknown>;
      return j['phase'] === 'COMPLETED' || j['phase'] === 'ERROR' ? j : false;
    },
    { timeoutMs, intervalMs: 500, description: `job ${id} done by a worker container` },
  );
}

/**
 * Worker Pods of `name` not being deleted, by name; with `terminating`, also those still shutting down (their
 * workers may still take a task until the kubelet's SIGTERM reaches them).
 */
export async function workerPods(
  ns: string,
  name: string,
  opts: { terminating?: boolean } = {},
): Promise<string[]> {
  const pods = await kubectlJson<{
    items: { metadata: { name: string; deletionTimestamp?: string } }[];
  }>([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `app.kubernetes.io/instance=${name},app.kubernetes.io/component=workers`,
  ]);
  return pods.items
    .filter((p) => opts.terminating === true || p.metadata.deletionTimestamp === undefined)
    .map((p) => p.metadata.name);
}

export interface TaskLog {
  kind: string;
  finished: boolean;
}
/** The tasks of job `jobId` each worker Pod of `name` has started (and finished), from its log (worker-main's pino lines). */
export async function tasksByPod(
  ns: string,
  name: string,
  jobId: string,
): Promise<Map<string, Map<string, TaskLog>>> {
  const out = new Map<string, Map<string, TaskLog>>();
  for (const pod of await workerPods(ns, name)) {
    const tasks = new Map<string, TaskLog>();
    out.set(pod, tasks);
    // A Pod still starting has no log yet.
    const text = await kubectl(['logs', pod, '-n', ns]).catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      const l = JSON.parse(line) as { msg?: string; job?: string; task?: string; kind?: string };
      if (l.job !== jobId || l.task === undefined || l.kind === undefined) continue;
      if (l.msg === 'Started task' && !tasks.has(l.task))
        tasks.set(l.task, { kind: l.kind, finished: false });
      if (l.msg === 'Finished task') tasks.set(l.task, { kind: l.kind, finished: true });
    }
  }
  return out;
}

/** Starts a score job of stored dataset `datasetId` against `modelId`; its id. */
export async function submitScore(call: Api, modelId: string, datasetId: string): Promise<string> {
  const r = await call(`/v1/models/${modelId}/score-dataset`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ datasetId }),
  });
  if (r.status !== 202) throw new Error(`POST score-dataset answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

/** The scores of completed score job `id` (float64, one per row). */
export async function scoresOf(call: Api, id: string): Promise<Float64Array> {
  const r = await call(`/v1/jobs/${id}/results?format=binary`);
  if (r.status !== 200) throw new Error(`GET /v1/jobs/${id}/results answered ${r.status}`);
  return new Float64Array(await r.arrayBuffer());
}

/** GET /v1/status of the pool. */
export async function poolStatus(
  call: Api,
): Promise<{ queueDepth: number; tasksRunning: number; workers: number }> {
  const r = await call('/v1/status');
  if (r.status !== 200) throw new Error(`GET /v1/status answered ${r.status}`);
  return (await r.json()) as { queueDepth: number; tasksRunning: number; workers: number };
}
