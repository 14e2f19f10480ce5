// Worker pool on a real redis-server: pool results equal the in-process engine bit for bit, and survive
// a SIGKILLed worker, a SIGKILLed-and-restarted redis-server, and sharing between two workers.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, fit, modelId, score, thresholdFor, type ForestParams } from '../src/engine/index.js';
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

const COLS = 10;
const CHUNK = 25_000;
let redis: RedisServer;
const procs: Proc[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  await redis.stop();
});

async function setup(
  workerEnv: Record<string, string> = {},
  workers = 1,
): Promise<{ api: ApiProc; call: ReturnType<typeof as>; ws: Proc[]; prefix: string }> {
  const prefix = freshPrefix();
  const env = { CHUNK_ROWS: String(CHUNK) };
  const api = await startApiProc(redis.url, prefix, env);
  procs.push(api.proc);
  const ws: Proc[] = [];
  for (let i = 0; i < workers; i++) {
    const w = await startWorker(redis.url, prefix, { ...env, ...workerEnv });
    procs.push(w);
    ws.push(w);
  }
  return { api, call: as(TOKENS.alice, api.url), ws, prefix };
}

async function upload(call: ReturnType<typeof as>, data: Float64Array, rows: number): Promise<string> {
  const res = await call('/v1/datasets', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-shape': `${rows},${COLS}` },
    body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function fitViaPool(
  call: ReturnType<typeof as>,
  datasetId: string,
  params: ForestParams,
  partitions: number,
): Promise<string> {
  const res = await call('/v1/models', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ datasetId, params, partitions, contamination: 0.02 }),
  });
  expect(res.status).toBe(202);
  const job = await waitJob(call, ((await res.json()) as { id: string }).id);
  expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
  return (job['result'] as { modelId: string }).modelId;
}

/** The content hash of a model record's forest (sha256 of the encoded model). */
async function contentHash(call: ReturnType<typeof as>, id: string): Promise<string> {
  return ((await (await call(`/v1/models/${id}`)).json()) as { contentHash: string }).contentHash;
}

async function scoreViaPool(
  call: ReturnType<typeof as>,
  modelIdStr: string,
  datasetId: string,
): Promise<{ job: Record<string, unknown>; scores: Float64Array }> {
  const res = await call(`/v1/models/${modelIdStr}/score-dataset`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ datasetId }),
  });
  expect(res.status).toBe(202);
  const job = await waitJob(call, ((await res.json()) as { id: string }).id);
  expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
  const out = await call(`/v1/jobs/${String(job['id'])}/results?format=binary`);
  expect(out.status).toBe(200);
  const buf = new Uint8Array(await out.arrayBuffer());
  const scores = new Float64Array(buf.byteLength / 8);
  new Uint8Array(scores.buffer).set(buf);
  return { job, scores };
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

describe('worker pool on real Redis', () => {
  it('fits and scores bit-identically to the in-process engine', async () => {
    const { call } = await setup();
    const rows = 4 * CHUNK + 1234; // five chunks, the last one short
    const data = gaussianData(rows, COLS, 7);
    const dsId = await upload(call, data, rows);
    const params: ForestParams = { ntrees: 60, sampleSize: 256, extensionLevel: COLS - 1, seed: 42 };
    const id = await fitViaPool(call, dsId, params, 4);

    const local = fit({ data, rows, cols: COLS }, params);
    expect(await contentHash(call, id)).toBe(modelId(local));
    const remoteBytes = new Uint8Array(await (await call(`/v1/models/${id}/binary`)).arrayBuffer());
    expect(Buffer.from(remoteBytes).equals(Buffer.from(encodeModel(local)))).toBe(true);
    const meta = (await (await call(`/v1/models/${id}`)).json()) as {
      threshold: number;
      effectiveSampleSize: number;
      dims: number;
      version: number;
    };
    const localScores = score(local, { data, rows, cols: COLS });
    expect(meta.threshold).toBe(thresholdFor(local, localScores, 0.02));
    expect(meta).toMatchObject({ effectiveSampleSize: 256, dims: COLS, version: 1 });

    const { job, scores } = await scoreViaPool(call, id, dsId);
    expect(bitsEqual(scores, localScores)).toBe(true);
    const flagged = localScores.filter((s) => s >= meta.threshold).length;
    expect(job['result']).toMatchObject({ rows, chunks: 5, flagged });
    expect(job['progress']).toBe(1);
  });

  it('completes with identical scores after a worker is SIGKILLed mid-chunk', async () => {
    // Short locks so the stalled chunk is reclaimed within seconds (research note §3.3: ~3 s).
    const env = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
    const { call, ws, prefix } = await setup(env, 1);
    const rows = 8 * CHUNK;
    const data = gaussianData(rows, COLS, 11);
    const dsId = await upload(call, data, rows);
    const params: ForestParams = { ntrees: 100, sampleSize: 256, extensionLevel: COLS - 1, seed: 5 };
    const id = await fitViaPool(call, dsId, params, 2);
    const local = fit({ data, rows, cols: COLS }, params);

    const res = await call(`/v1/models/${id}/score-dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: dsId }),
    });
    const jobId = ((await res.json()) as { id: string }).id;
    const victim = ws[0]!;
    // Wait until the victim has started a score chunk, then kill it without warning.
    const before = victim.output.split('"kind":"score-chunk"').length;
    while (victim.output.split('"kind":"score-chunk"').length === before)
      await new Promise((r) => setTimeout(r, 5));
    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    const rescuer = await startWorker(redis.url, prefix, { CHUNK_ROWS: String(CHUNK), ...env });
    procs.push(rescuer);
    const job = await waitJob(call, jobId);
    expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    const out = new Uint8Array(await (await call(`/v1/jobs/${jobId}/results?format=binary`)).arrayBuffer());
    const scores = new Float64Array(out.byteLength / 8);
    new Uint8Array(scores.buffer).set(out);
    expect(bitsEqual(scores, score(local, { data, rows, cols: COLS }))).toBe(true);
    expect(rescuer.output).toContain('Detected a stalled task');
  });

  it('completes after redis-server is SIGKILLed and restarted mid-job (AOF)', async () => {
    const { call } = await setup({}, 1);
    const rows = 8 * CHUNK;
    const data = gaussianData(rows, COLS, 13);
    const dsId = await upload(call, data, rows);
    const params: ForestParams = { ntrees: 100, sampleSize: 256, extensionLevel: 0, seed: 9 };
    const id = await fitViaPool(call, dsId, params, 2);
    const local = fit({ data, rows, cols: COLS }, params);
    const res = await call(`/v1/models/${id}/score-dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: dsId }),
    });
    const jobId = ((await res.json()) as { id: string }).id;
    // Restart once some chunks are done and others are not.
    for (;;) {
      const j = (await (await call(`/v1/jobs/${jobId}`)).json()) as { tasksDone: number };
      if (j.tasksDone >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await redis.restart();
    const job = await waitJob(call, jobId);
    expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
    const out = new Uint8Array(await (await call(`/v1/jobs/${jobId}/results?format=binary`)).arrayBuffer());
    const scores = new Float64Array(out.byteLength / 8);
    new Uint8Array(scores.buffer).set(out);
    expect(bitsEqual(scores, score(local, { data, rows, cols: COLS }))).toBe(true);
  });

  it('shares the chunks of one job between two workers', async () => {
    const { call, ws } = await setup({}, 2);
    const rows = 8 * CHUNK;
    const data = gaussianData(rows, COLS, 17);
    const dsId = await upload(call, data, rows);
    const params: ForestParams = { ntrees: 100, sampleSize: 256, extensionLevel: 3, seed: 1 };
    const id = await fitViaPool(call, dsId, params, 4);
    const local = fit({ data, rows, cols: COLS }, params);
    expect(await contentHash(call, id)).toBe(modelId(local));
    const { scores } = await scoreViaPool(call, id, dsId);
    expect(bitsEqual(scores, score(local, { data, rows, cols: COLS }))).toBe(true);
    const chunksBy = ws.map(
      (w) => (w.output.match(/"kind":"score-chunk"[^\n]*"Finished task"/g) ?? []).length,
    );
    expect(chunksBy[0]! + chunksBy[1]!).toBeGreaterThanOrEqual(8);
    expect(Math.min(...chunksBy)).toBeGreaterThan(0);
  });
  it('finishes in-flight chunks on SIGTERM, exits 0, and leaves the rest to another worker', async () => {
    const { call, ws, prefix } = await setup({}, 1);
    const rows = 8 * CHUNK;
    const data = gaussianData(rows, COLS, 19);
    const dsId = await upload(call, data, rows);
    const params: ForestParams = { ntrees: 100, sampleSize: 256, extensionLevel: COLS - 1, seed: 8 };
    const id = await fitViaPool(call, dsId, params, 1);
    const res = await call(`/v1/models/${id}/score-dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: dsId }),
    });
    const jobId = ((await res.json()) as { id: string }).id;
    const w = ws[0]!;
    const marker = '"kind":"score-chunk","attempt":1,"msg":"Started task"';
    while (!w.output.includes(marker)) await new Promise((r) => setTimeout(r, 5));
    const code = await w.stop('SIGTERM');
    expect(code).toBe(0);
    const after = w.output.slice(w.output.indexOf('Received shutdown signal'));
    expect(after).toContain('"msg":"Finished task"'); // the in-flight chunk was completed, not dropped
    expect(after).not.toContain('Released in-flight tasks');
    const done = (w.output.match(/"kind":"score-chunk"[^\n]*"Finished task"/g) ?? []).length;
    expect(done).toBeLessThan(8);
    const rescuer = await startWorker(redis.url, prefix, { CHUNK_ROWS: String(CHUNK) });
    procs.push(rescuer);
    const job = await waitJob(call, jobId);
    expect(job['phase']).toBe('COMPLETED');
    const out = new Uint8Array(await (await call(`/v1/jobs/${jobId}/results?format=binary`)).arrayBuffer());
    const scores = new Float64Array(out.byteLength / 8);
    new Uint8Array(scores.buffer).set(out);
    expect(
      bitsEqual(scores, score(fit({ data, rows, cols: COLS }, params), { data, rows, cols: COLS })),
    ).toBe(true);
    // No chunk ran twice: the stopped worker's finished chunks were not redone by the rescuer.
    const redone = (rescuer.output.match(/"kind":"score-chunk"[^\n]*"Finished task"/g) ?? []).length;
    expect(done + redone).toBe(8);
  });

  it('aborts a queued job: workers skip its tasks and write nothing', async () => {
    const { call, ws, prefix } = await setup({}, 1);
    const rows = 4 * CHUNK;
    const data = gaussianData(rows, COLS, 23);
    const dsId = await upload(call, data, rows);
    const id = await fitViaPool(call, dsId, { ntrees: 20, sampleSize: 64, extensionLevel: 0, seed: 2 }, 1);
    await ws[0]!.stop('SIGTERM');
    const res = await call(`/v1/models/${id}/score-dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: dsId }),
    });
    const jobId = ((await res.json()) as { id: string }).id;
    const ab = await call(`/v1/jobs/${jobId}/phase?PHASE=ABORT`, { method: 'POST' });
    expect(((await ab.json()) as { phase: string }).phase).toBe('ABORTED');
    const w = await startWorker(redis.url, prefix, { CHUNK_ROWS: String(CHUNK) });
    procs.push(w);
    await new Promise((r) => setTimeout(r, 1500));
    const job = (await (await call(`/v1/jobs/${jobId}`)).json()) as { phase: string; tasksDone: number };
    expect(job).toMatchObject({ phase: 'ABORTED', tasksDone: 0 });
    expect(w.output).not.toContain('"kind":"score-chunk"');
    expect((await call(`/v1/jobs/${jobId}/results`)).status).toBe(409);
  });
  it('reports ERROR when a task exceeds the stall limit (no worker sees that failure)', async () => {
    const env = { LOCK_DURATION_MS: '1000', STALLED_INTERVAL_MS: '500', MAX_STALLED_COUNT: '0' };
    const { call, ws, prefix } = await setup(env, 1);
    const rows = 4 * CHUNK;
    const data = gaussianData(rows, COLS, 29);
    const dsId = await upload(call, data, rows);
    const id = await fitViaPool(
      call,
      dsId,
      { ntrees: 100, sampleSize: 256, extensionLevel: COLS - 1, seed: 3 },
      1,
    );
    const res = await call(`/v1/models/${id}/score-dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: dsId }),
    });
    const jobId = ((await res.json()) as { id: string }).id;
    const victim = ws[0]!;
    while (!victim.output.includes('"kind":"score-chunk","attempt":1,"msg":"Started task"')) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await victim.stop('SIGKILL');
    procs.push(await startWorker(redis.url, prefix, { CHUNK_ROWS: String(CHUNK), ...env }));
    const job = await waitJob(call, jobId, 30_000);
    expect(job['phase']).toBe('ERROR');
    expect(job['error']).toMatchObject({ code: 'TaskFailed' });
  });
});
