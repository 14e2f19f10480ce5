// Store and task worker on a real redis-server: idempotent outputs, once-only model versions, guarded phase
// transitions, and a duplicated (redelivered) chunk task that changes nothing.

import { pino } from 'pino';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, fit, modelId, score } from '../src/engine/index.js';
import { Coordinator } from '../src/pool/coordinator.js';
import { childJobId, type ScoreChunkTask } from '../src/pool/protocol.js';
import { TaskWorker } from '../src/pool/task-worker.js';
import { TASK_QUEUE } from '../src/store/keys.js';
import { bufferToFloat64 } from '../src/store/matrix.js';
import { connectRedis } from '../src/store/redis.js';
import {
  modelRecordId,
  Store,
  type DatasetMeta,
  type JobRecord,
  type ModelMeta,
} from '../src/store/store.js';
import { gaussianData, freshPrefix } from './support/procs.js';
import { RedisServer } from './support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

function job(id: string): JobRecord {
  return {
    id,
    tenant: 't',
    kind: 'score',
    phase: 'QUEUED',
    tasks: 2,
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    spec: '{}',
    result: null,
    error: null,
  };
}

const meta = (id: string, name: string): Omit<ModelMeta, 'version' | 'contentHash'> => ({
  id,
  name,
  createdAt: new Date().toISOString(),
  datasetId: 'd',
  dims: 2,
  columns: null,
  params: {},
  effectiveSampleSize: 2,
  threshold: 0.5,
  thresholdSource: 'explicit',
  contamination: null,
  trainingRows: 2,
  bytes: 3,
});

describe('Store', () => {
  it('counts a rewritten task output once', async () => {
    const conn = connectRedis(redis.url, false);
    const store = new Store(conn, freshPrefix());
    await store.createJob(job('j'));
    const bytes = new Uint8Array([1, 2, 3]);
    await store.putTaskOutput('t', 'j', 0, bytes, 5);
    await store.putTaskOutput('t', 'j', 0, bytes, 5);
    await store.putTaskOutput('t', 'j', 1, bytes, 2);
    expect(await store.doneCount('t', 'j')).toBe(2);
    expect(await store.flaggedTotal('t', 'j')).toBe(7);
    conn.disconnect();
  });

  it('stores a model once and versions a name once per distinct model', async () => {
    const conn = connectRedis(redis.url, false);
    const store = new Store(conn, freshPrefix());
    const a1 = await store.putModel('t', new Uint8Array([1]), meta('aaa', 'm'));
    const a2 = await store.putModel('t', new Uint8Array([9]), meta('aaa', 'm'));
    const b = await store.putModel('t', new Uint8Array([2]), meta('bbb', 'm'));
    expect([a1.version, a2.version, b.version]).toEqual([1, 1, 2]);
    expect(Array.from((await store.getModelBytes('t', 'aaa'))!)).toEqual([1]); // immutable: the rerun did not overwrite
    expect((await store.listModels('t')).map((m) => m.id)).toEqual(['aaa', 'bbb']);
    expect(await store.getModelMeta('other-tenant', 'aaa')).toBeNull();
    conn.disconnect();
  });

  it('keeps one record per fit, sharing the bytes of equal forests (issue 10 item 2)', async () => {
    const conn = connectRedis(redis.url, false);
    const store = new Store(conn, freshPrefix());
    const hash = 'c0ffee';
    const first = await store.putModel('t', new Uint8Array([7]), {
      ...meta(modelRecordId('job-1', hash), 'first'),
      contentHash: hash,
      threshold: 0.7,
    });
    const second = await store.putModel('t', new Uint8Array([7]), {
      ...meta(modelRecordId('job-2', hash), 'second'),
      contentHash: hash,
      threshold: 0.9,
      contamination: 0.2,
    });
    expect(first.id).not.toBe(second.id);
    expect(second).toMatchObject({
      name: 'second',
      version: 1,
      threshold: 0.9,
      contamination: 0.2,
      contentHash: hash,
    });
    expect(await store.getModelMeta('t', first.id)).toMatchObject({ name: 'first', threshold: 0.7 });
    expect(Array.from((await store.getModelBytes('t', second.id))!)).toEqual([7]);
    expect(await conn.exists(store.keys.model('t', hash))).toBe(1);
    // The assemble step of job-2 running again returns its record; no new version.
    const again = await store.putModel('t', new Uint8Array([7]), {
      ...meta(modelRecordId('job-2', hash), 'second'),
      contentHash: hash,
    });
    expect(again).toEqual(second);
    conn.disconnect();
  });

  it('moves phases only along allowed transitions', async () => {
    const conn = connectRedis(redis.url, false);
    const store = new Store(conn, freshPrefix());
    await store.createJob(job('j'));
    expect(await store.transition('t', 'j', ['QUEUED'], 'ABORTED')).toBe(true);
    expect(await store.transition('t', 'j', ['PENDING', 'QUEUED'], 'EXECUTING')).toBe(false);
    expect(await store.transition('t', 'j', ['EXECUTING'], 'COMPLETED')).toBe(false);
    expect((await store.getJob('t', 'j'))?.phase).toBe('ABORTED');
    expect(await store.transition('t', 'missing', ['QUEUED'], 'EXECUTING')).toBe(false);
    conn.disconnect();
  });

  it('lists a tenant’s jobs newest first across index pages, filtered, dropping expired ones', async () => {
    const conn = connectRedis(redis.url, false);
    const prefix = freshPrefix();
    const store = new Store(conn, prefix, 3600);
    const t0 = Date.parse('2026-12-01T10:00:00Z');
    const at = (i: number, over: Partial<JobRecord> = {}): JobRecord => ({
      ...job(`j${i}`),
      createdAt: new Date(t0 + i * 1000).toISOString(),
      ...over,
    });
    // 450 jobs: more than two pages of the index; every third one finished.
    for (let i = 0; i < 450; i++) await store.createJob(at(i, i % 3 === 0 ? { phase: 'COMPLETED' } : {}));
    await store.createJob({ ...at(5), tenant: 'other', id: 'theirs' });
    expect((await store.listJobs('t', 3)).map((j) => j.id)).toEqual(['j449', 'j448', 'j447']);
    const done = await store.listJobs('t', 1000, (j) => j.phase === 'COMPLETED');
    expect(done).toHaveLength(150);
    expect(done[0]?.id).toBe('j447');
    expect(done[149]?.id).toBe('j0');
    // A record that expired (deleted here) disappears from the list and from the index.
    await conn.del(store.keys.job('t', 'j448'));
    expect((await store.listJobs('t', 2)).map((j) => j.id)).toEqual(['j449', 'j447']);
    expect(await conn.zscore(store.keys.jobIndex('t'), 'j448')).toBeNull();
    // A new job prunes index entries older than the TTL (3600 s before it).
    await store.createJob(at(3600 + 100));
    expect(await conn.zcard(store.keys.jobIndex('t'))).toBe(449 - 100 + 1); // j0…j99 went, the new one came
    expect((await store.listJobs('other', 10)).map((j) => j.id)).toEqual(['theirs']);
    conn.disconnect();
  });
});

describe('TaskWorker', () => {
  it('processes a duplicated chunk task without changing results or counts', async () => {
    const prefix = freshPrefix();
    const conn = connectRedis(redis.url, true);
    const bull = connectRedis(redis.url, true);
    const store = new Store(conn, prefix);
    const coord = new Coordinator(store, bull);
    const rows = 6000;
    const cols = 3;
    const chunkRows = 2000;
    const x = gaussianData(rows, cols, 5);
    const model = fit({ data: x, rows, cols }, { ntrees: 30, sampleSize: 128, extensionLevel: 1, seed: 2 });
    const id = modelId(model);
    await store.putModel('t', encodeModel(model), { ...meta(id, 'm'), dims: cols });
    for (let i = 0; i < 3; i++)
      await store.putDatasetChunk(
        't',
        'ds',
        i,
        x.slice(i * chunkRows * cols, (i + 1) * chunkRows * cols),
        false,
      );
    const ds: DatasetMeta = {
      id: 'ds',
      rows,
      cols,
      chunkRows,
      chunks: 3,
      columns: null,
      format: 'binary',
      createdAt: new Date().toISOString(),
      temporary: false,
    };
    await store.putDatasetMeta('t', ds);

    const jobId = await coord.submitScore('t', { dataset: ds, modelId: id, threshold: 0.55 });
    // A second delivery of chunk 1 (as after a stall): same payload, another BullMQ id.
    const dup: ScoreChunkTask = {
      kind: 'score-chunk',
      tenant: 't',
      jobId,
      index: 1,
      datasetId: 'ds',
      modelId: id,
      threshold: 0.55,
    };
    const q = new Queue(TASK_QUEUE, { connection: bull, prefix: store.keys.bullPrefix() });
    await q.add('score-chunk', dup, { jobId: `${childJobId(jobId, 1)}-dup` });

    const worker = new TaskWorker(store, bull, pino({ level: 'silent' }), {
      threads: 1,
      concurrency: 2,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 1,
    });
    void worker.run();
    const deadline = Date.now() + 60_000;
    let dupDone = false;
    while (Date.now() < deadline) {
      const j = await store.getJob('t', jobId);
      dupDone = (await q.getJobState(`${childJobId(jobId, 1)}-dup`)) === 'completed';
      if (j?.phase === 'COMPLETED' && dupDone) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dupDone).toBe(true);
    const j = await store.getJob('t', jobId);
    expect(j?.phase).toBe('COMPLETED');
    const want = score(model, { data: x, rows, cols });
    expect(await store.doneCount('t', jobId)).toBe(3);
    expect(JSON.parse(j?.result ?? '{}')).toMatchObject({
      rows,
      flagged: want.filter((s) => s >= 0.55).length,
    });
    const got = bufferToFloat64(await store.getTaskOutput('t', jobId, 1));
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer, chunkRows * 8, chunkRows * 8))).toBe(true);
    await worker.close(5000);
    await q.close();
    await coord.close();
    conn.disconnect();
    bull.disconnect();
  });
});
