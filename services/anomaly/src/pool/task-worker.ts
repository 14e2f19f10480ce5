// One worker process's BullMQ consumer: fetches inputs from Redis, computes in threads, writes idempotent outputs.

import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { float64ToBuffer } from '../store/matrix.js';
import { TASK_QUEUE } from '../store/keys.js';
import { MissingDataError, modelRecordId, type Store } from '../store/store.js';
import type { ComputeResponse } from './compute.js';
import type {
  FitAssembleTask,
  FitBlockTask,
  FitResult,
  ScoreChunkTask,
  ScoreReduceTask,
  ScoreResult,
  TaskData,
} from './protocol.js';
import { reorderColumns } from './protocol.js';
import { ComputeError, ThreadPool } from './thread-pool.js';

/** Options of a task worker. */
export interface TaskWorkerOptions {
  readonly threads: number;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
}

const MODEL_BYTES_CACHE = 4;

/** Consumes fit and score tasks until closed. */
export class TaskWorker {
  private readonly pool: ThreadPool;
  private readonly worker: Worker<TaskData>;
  private readonly modelBytes = new Map<string, Buffer>();
  /** Prometheus registry of this worker (served by worker-main when METRICS_PORT is set). */
  readonly registry = new Registry();
  private readonly tasks = new Counter({
    name: 'skyport_anomaly_worker_tasks_total',
    help: 'Tasks by kind and outcome',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  private readonly taskSeconds = new Histogram({
    name: 'skyport_anomaly_worker_task_duration_seconds',
    help: 'Task duration by kind',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120],
    registers: [this.registry],
  });

  constructor(
    private readonly store: Store,
    connection: ConnectionOptions,
    private readonly log: Logger,
    opts: TaskWorkerOptions,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'skyport_anomaly_worker_' });
    this.pool = new ThreadPool(opts.threads);
    this.worker = new Worker<TaskData>(TASK_QUEUE, (job) => this.process(job), {
      connection,
      prefix: store.keys.bullPrefix(),
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs,
      stalledInterval: opts.stalledIntervalMs,
      maxStalledCount: opts.maxStalledCount,
      autorun: false,
    });
    this.worker.on('failed', (job, err) => {
      if (job === undefined) return;
      void this.onFailed(job, err).catch((e: unknown) =>
        this.log.error({ err: e }, 'Failed to record a task failure'),
      );
    });
    this.worker.on('stalled', (id) => this.log.warn({ task: id }, 'Detected a stalled task'));
    this.worker.on('error', (err) => this.log.error({ err }, 'Task worker reported an error'));
  }

  /** Starts consuming. Resolves when the worker stops. */
  run(): Promise<void> {
    return this.worker.run();
  }

  /** True while the BullMQ worker loop runs (liveness). */
  alive(): boolean {
    return this.worker.isRunning();
  }

  /** True while the Redis connection is usable (readiness; a Redis restart flips it briefly). */
  ready(): boolean {
    return this.store.redis.status === 'ready';
  }

  /** Resolves once the worker is connected and waiting for tasks. */
  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /**
   * Stops taking tasks and lets in-flight ones finish for `graceMs`; after that the rest are abandoned
   * with their locks, which expire so another worker picks them up (released, never lost).
   */
  async close(graceMs: number): Promise<void> {
    const graceful = this.worker.close();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn({ graceMs }, 'Released in-flight tasks after the shutdown grace period');
      await this.worker.close(true);
    }
    await this.pool.close();
  }

  private async process(job: Job<TaskData>): Promise<unknown> {
    const t = job.data;
    const rec = await this.store.getJob(t.tenant, t.jobId);
    // The job record is gone (expired) or the user aborted: skipping is the whole effect.
    if (rec === null || rec.phase === 'ABORTED' || rec.phase === 'ERROR') {
      this.tasks.inc({ kind: t.kind, outcome: 'skipped' });
      return { skipped: rec?.phase ?? 'missing' };
    }
    await this.store.transition(t.tenant, t.jobId, ['PENDING', 'QUEUED'], 'EXECUTING', {
      startedAt: new Date().toISOString(),
    });
    const log = this.log.child({ job: t.jobId, task: job.id, kind: t.kind, attempt: job.attemptsMade + 1 });
    log.info('Started task');
    const started = performance.now();
    try {
      let out: unknown;
      switch (t.kind) {
        case 'fit-block':
          out = await this.fitBlock(t);
          break;
        case 'fit-assemble':
          out = await this.fitAssemble(t);
          break;
        case 'score-chunk':
          out = await this.scoreChunk(t);
          break;
        case 'score-reduce':
          out = await this.scoreReduce(t);
          break;
      }
      const ms = performance.now() - started;
      log.info({ ms: Math.round(ms) }, 'Finished task');
      this.tasks.inc({ kind: t.kind, outcome: 'done' });
      this.taskSeconds.observe({ kind: t.kind }, ms / 1000);
      return out;
    } catch (err) {
      this.tasks.inc({ kind: t.kind, outcome: 'failed' });
      // Bad input or missing data will fail the same way every time: record it and do not retry.
      if ((err instanceof ComputeError && err.name === 'EngineError') || err instanceof MissingDataError) {
        await this.fail(
          t,
          err instanceof ComputeError ? (err.code ?? 'EngineError') : 'MissingData',
          err.message,
          err instanceof ComputeError ? err.detail : undefined,
        );
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
  }

  private async onFailed(job: Job<TaskData>, err: Error): Promise<void> {
    const final =
      err instanceof UnrecoverableError ||
      err.name === 'UnrecoverableError' ||
      job.attemptsMade >= (job.opts.attempts ?? 1);
    this.log.warn({ task: job.id, attempts: job.attemptsMade, final, err: err.message }, 'Failed task');
    if (final) await this.fail(job.data, 'TaskFailed', err.message, undefined);
  }

  private async fail(t: TaskData, code: string, message: string, detail: unknown): Promise<void> {
    await this.store.transition(t.tenant, t.jobId, ['PENDING', 'QUEUED', 'EXECUTING'], 'ERROR', {
      endedAt: new Date().toISOString(),
      error: JSON.stringify({ code, message, ...(detail === undefined ? {} : { detail }) }),
    });
  }

  private async compute(
    req: Parameters<ThreadPool['run']>[0],
    transfer: ArrayBuffer[],
  ): Promise<ComputeResponse> {
    return this.pool.run(req, transfer);
  }

  private async fitBlock(t: FitBlockTask): Promise<{ bytes: number }> {
    const meta = await this.store.getDatasetMeta(t.tenant, t.datasetId);
    if (meta === null) throw new MissingDataError(`dataset ${t.datasetId} is gone`);
    const m = await this.store.getDataset(t.tenant, meta);
    const res = await this.compute(
      { op: 'build', data: m.data, cols: m.cols, params: t.params, start: t.start, end: t.end },
      [m.data.buffer as ArrayBuffer],
    );
    if (res.op !== 'build') throw new Error(`unexpected compute reply ${res.op}`);
    await this.store.putTaskOutput(t.tenant, t.jobId, t.index, res.bytes);
    return { bytes: res.bytes.byteLength };
  }

  private async fitAssemble(t: FitAssembleTask): Promise<FitResult> {
    const done = await this.store.doneCount(t.tenant, t.jobId);
    if (done < t.partitions.length)
      throw new Error(`only ${done} of ${t.partitions.length} tree blocks are done`);
    const meta = await this.store.getDatasetMeta(t.tenant, t.datasetId);
    if (meta === null) throw new MissingDataError(`dataset ${t.datasetId} is gone`);
    const m = await this.store.getDataset(t.tenant, meta);
    const blocks = await Promise.all(
      t.partitions.map(async ([start, end], i) => {
        const buf = await this.store.getTaskOutput(t.tenant, t.jobId, i);
        return { start, end, bytes: new Uint8Array(buf) };
      }),
    );
    const contamination = t.threshold === null ? (t.contamination ?? DEFAULT_CONTAMINATION) : null;
    const res = await this.compute(
      { op: 'assemble', data: m.data, cols: m.cols, params: t.params, blocks, contamination },
      [m.data.buffer as ArrayBuffer],
    );
    if (res.op !== 'assemble') throw new Error(`unexpected compute reply ${res.op}`);
    const threshold = t.threshold ?? res.threshold;
    if (threshold === null) throw new Error('assemble returned no threshold');
    const stored = await this.store.putModel(t.tenant, res.modelBytes, {
      id: modelRecordId(t.jobId, res.modelId),
      contentHash: res.modelId,
      name: t.name,
      createdAt: new Date().toISOString(),
      datasetId: t.datasetId,
      dims: res.resolved.dims,
      columns: meta.columns,
      params: { ...res.resolved },
      effectiveSampleSize: res.resolved.sampleSize,
      threshold,
      thresholdSource: t.threshold === null ? 'contamination' : 'explicit',
      contamination: t.threshold === null ? contamination : null,
      trainingRows: meta.rows,
      bytes: res.modelBytes.byteLength,
    });
    const result: FitResult = { modelId: stored.id, version: stored.version, name: stored.name };
    await this.store.transition(t.tenant, t.jobId, ['EXECUTING', 'QUEUED', 'PENDING'], 'COMPLETED', {
      endedAt: new Date().toISOString(),
      result: JSON.stringify(result),
    });
    return result;
  }

  private async scoreChunk(t: ScoreChunkTask): Promise<{ flagged: number }> {
    const stored = await this.store.getDatasetChunk(t.tenant, t.datasetId, t.index);
    const data = t.columnOrder === undefined ? stored : reorderColumns(stored, t.columnOrder);
    const meta = await this.store.getDatasetMeta(t.tenant, t.datasetId);
    if (meta === null) throw new MissingDataError(`dataset ${t.datasetId} is gone`);
    const req = { op: 'score', modelId: t.modelId, data, cols: meta.cols, threshold: t.threshold } as const;
    // The chunk's buffer is moved, not copied, to the thread; on a model-cache miss the thread hands it back.
    let res = await this.compute(req, [data.buffer as ArrayBuffer]);
    if (res.op === 'missing-model') {
      const bytes = await this.getModelBytes(t.tenant, t.modelId);
      res = await this.compute({ ...req, data: res.data, modelBytes: bytes }, [
        res.data.buffer as ArrayBuffer,
      ]);
    }
    if (res.op !== 'score') throw new Error(`unexpected compute reply ${res.op}`);
    await this.store.putTaskOutput(t.tenant, t.jobId, t.index, float64ToBuffer(res.scores), res.flagged);
    return { flagged: res.flagged };
  }

  private async getModelBytes(tenant: string, id: string): Promise<Uint8Array> {
    const key = `${tenant}/${id}`;
    let bytes = this.modelBytes.get(key);
    if (bytes === undefined) {
      const b = await this.store.getModelBytes(tenant, id);
      if (b === null) throw new MissingDataError(`model ${id} is gone`);
      bytes = b;
      this.modelBytes.set(key, b);
      while (this.modelBytes.size > MODEL_BYTES_CACHE) {
        const first = this.modelBytes.keys().next();
        if (first.done) break;
        this.modelBytes.delete(first.value);
      }
    }
    return new Uint8Array(bytes);
  }

  private async scoreReduce(t: ScoreReduceTask): Promise<ScoreResult> {
    const done = await this.store.doneCount(t.tenant, t.jobId);
    if (done < t.chunks) throw new Error(`only ${done} of ${t.chunks} chunks are done`);
    const flagged = await this.store.flaggedTotal(t.tenant, t.jobId);
    const result: ScoreResult = {
      modelId: t.modelId,
      rows: t.rows,
      chunks: t.chunks,
      threshold: t.threshold,
      flagged,
    };
    await this.store.transition(t.tenant, t.jobId, ['EXECUTING', 'QUEUED', 'PENDING'], 'COMPLETED', {
      endedAt: new Date().toISOString(),
      result: JSON.stringify(result),
    });
    if (t.dropInput) await this.store.deleteDataset(t.tenant, t.datasetId, t.chunks);
    return result;
  }
}

/** Contamination used when a fit request names neither a threshold nor a contamination. */
export const DEFAULT_CONTAMINATION = 0.01;
