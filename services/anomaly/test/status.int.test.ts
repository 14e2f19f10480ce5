// GET /v1/status on a real redis-server: the counts the operator's autoscaler reads follow a fit job from
// queued (no worker yet) to done (a worker connected), and the endpoint needs a token.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from './support/redis-server.js';
import {
  as,
  freshPrefix,
  gaussianData,
  startApiProc,
  startWorker,
  TOKENS,
  waitJob,
  type ApiProc,
  type Proc,
} from './support/procs.js';

const ROWS = 2000;
const COLS = 3;

let redis: RedisServer;
let api: ApiProc;
let worker: Proc | undefined;
let prefix: string;
let alice: ReturnType<typeof as>;

async function status(): Promise<Record<string, unknown>> {
  const res = await alice('/v1/status');
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  prefix = freshPrefix();
  api = await startApiProc(redis.url, prefix);
  alice = as(TOKENS.alice, api.url);
});

afterAll(async () => {
  await worker?.stop();
  await api?.proc.stop();
  await redis?.stop();
});

describe('GET /v1/status', () => {
  it('needs a bearer token', async () => {
    const res = await fetch(`${api.url}/v1/status`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'Unauthorized' });
  });

  it('follows a fit job from queued with no worker to stored by a worker', async () => {
    expect(await status()).toMatchObject({
      queueDepth: 0,
      tasksRunning: 0,
      jobsRunning: 0,
      workers: 0,
      modelsStored: 0,
    });

    const data = gaussianData(ROWS, COLS, 5);
    const csv = Array.from({ length: ROWS }, (_, r) =>
      Array.from(data.subarray(r * COLS, (r + 1) * COLS)).join(','),
    );
    const up = await alice('/v1/datasets?header=absent', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv.join('\n') + '\n',
    });
    expect(up.status).toBe(201);
    const { id: datasetId } = (await up.json()) as { id: string };
    // 100 trees in 4 partitions: 4 fit-block tasks wait for a worker; the assemble task waits for them.
    const fr = await alice('/v1/models', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        datasetId,
        params: { ntrees: 100, sampleSize: 128, extensionLevel: 0, seed: 1 },
        partitions: 4,
        threshold: 0.6,
      }),
    });
    expect(fr.status).toBe(202);
    const { id: jobId } = (await fr.json()) as { id: string };
    expect(await status()).toMatchObject({ queueDepth: 4, tasksRunning: 0, jobsRunning: 1, workers: 0 });

    worker = await startWorker(redis.url, prefix);
    const job = await waitJob(alice, jobId);
    expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
    const after = await status();
    expect(after).toMatchObject({
      queueDepth: 0,
      tasksRunning: 0,
      jobsRunning: 0,
      workers: 1,
      modelsStored: 1,
    });
    expect(Date.parse(String(after['time']))).not.toBeNaN();

    // The count is deployment-wide: bob sees alice's model counted, not listed.
    const bob = as(TOKENS.bob, api.url);
    expect(((await (await bob('/v1/status')).json()) as { modelsStored: number }).modelsStored).toBe(1);
    expect(((await (await bob('/v1/models')).json()) as { items: unknown[] }).items).toEqual([]);
  });
});
