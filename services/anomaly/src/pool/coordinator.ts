// Submits fit and score jobs as BullMQ flows: one child task per tree partition or data chunk, one fan-in parent.

import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue, type ConnectionOptions } from 'bullmq';
import type { ForestParams } from '../engine/contract.js';
import type { DatasetMeta, JobRecord, Store } from '../store/store.js';
import { TASK_QUEUE } from '../store/keys.js';
import {
  childJobId,
  parentJobId,
  treePartitions,
  type FitAssembleTask,
  type FitBlockTask,
  type ScoreChunkTask,
  type ScoreReduceTask,
} from './protocol.js';

/** What a fit job needs. */
export interface FitRequest {
  readonly dataset: DatasetMeta;
  readonly params: ForestParams;
  readonly contamination: number | null;
  readonly threshold: number | null;
  readonly name: string;
  /** Tree partitions (≥ 1); defaults to one per 25 trees. */
  readonly partitions?: number;
}

/** What a score job needs. */
export interface ScoreRequest {
  readonly dataset: DatasetMeta;
  readonly modelId: string;
  readonly threshold: number;
  /** Model column of each dataset column, when the two name them in different orders. */
  readonly columnOrder?: readonly number[];
}

const CHILD_OPTS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 86_400 },
  failParentOnFailure: true,
} as const;

/** Creates job records and enqueues their task flows. */
export class Coordinator {
  private readonly flows: FlowProducer;
  readonly queue: Queue;

  constructor(
    private readonly store: Store,
    connection: ConnectionOptions,
  ) {
    const prefix = store.keys.bullPrefix();
    this.flows = new FlowProducer({ connection, prefix });
    this.queue = new Queue(TASK_QUEUE, { connection, prefix });
  }

  /** Starts a distributed fit; returns the job id. */
  async submitFit(tenant: string, req: FitRequest): Promise<string> {
    const ntrees = req.params.ntrees;
    const partitions = treePartitions(ntrees, req.partitions ?? Math.ceil(ntrees / 25));
    const spec = {
      datasetId: req.dataset.id,
      params: req.params,
      contamination: req.contamination,
      threshold: req.threshold,
      name: req.name,
      partitions,
    };
    const jobId = await this.createPendingJob(tenant, 'fit', partitions.length, spec);
    const children = partitions.map(([start, end], index) => {
      const data: FitBlockTask = {
        kind: 'fit-block',
        tenant,
        jobId,
        index,
        datasetId: req.dataset.id,
        params: req.params,
        start,
        end,
      };
      return {
        name: 'fit-block',
        queueName: TASK_QUEUE,
        data,
        opts: { ...CHILD_OPTS, jobId: childJobId(jobId, index) },
      };
    });
    const parent: FitAssembleTask = {
      kind: 'fit-assemble',
      tenant,
      jobId,
      datasetId: req.dataset.id,
      params: req.params,
      partitions,
      contamination: req.contamination,
      threshold: req.threshold,
      name: req.name,
    };
    await this.enqueue(tenant, jobId, {
      name: 'fit-assemble',
      queueName: TASK_QUEUE,
      data: parent,
      children,
      opts: { ...CHILD_OPTS, jobId: parentJobId(jobId) },
    });
    return jobId;
  }

  /** Starts a distributed score of every chunk of a stored dataset; returns the job id. */
  async submitScore(tenant: string, req: ScoreRequest): Promise<string> {
    const ds = req.dataset;
    const spec = {
      datasetId: ds.id,
      modelId: req.modelId,
      rows: ds.rows,
      chunks: ds.chunks,
      threshold: req.threshold,
    };
    const jobId = await this.createPendingJob(tenant, 'score', ds.chunks, spec);
    const children = Array.from({ length: ds.chunks }, (_, index) => {
      const data: ScoreChunkTask = {
        kind: 'score-chunk',
        tenant,
        jobId,
        index,
        datasetId: ds.id,
        modelId: req.modelId,
        threshold: req.threshold,
        ...(req.columnOrder === undefined ? {} : { columnOrder: req.columnOrder }),
      };
      return {
        name: 'score-chunk',
        queueName: TASK_QUEUE,
        data,
        opts: { ...CHILD_OPTS, jobId: childJobId(jobId, index) },
      };
    });
    const parent: ScoreReduceTask = {
      kind: 'score-reduce',
      tenant,
      jobId,
      datasetId: ds.id,
      modelId: req.modelId,
      chunks: ds.chunks,
      rows: ds.rows,
      threshold: req.threshold,
      dropInput: ds.temporary,
    };
    await this.enqueue(tenant, jobId, {
      name: 'score-reduce',
      queueName: TASK_QUEUE,
      data: parent,
      children,
      opts: { ...CHILD_OPTS, jobId: parentJobId(jobId) },
    });
    return jobId;
  }

  /** Records a new PENDING job (the durable record every status read starts from); returns its id. */
  private async createPendingJob(
    tenant: string,
    kind: JobRecord['kind'],
    tasks: number,
    spec: object,
  ): Promise<string> {
    const jobId = randomUUID();
    await this.store.createJob({
      id: jobId,
      tenant,
      kind,
      phase: 'PENDING',
      tasks,
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      spec: JSON.stringify(spec),
      result: null,
      error: null,
    });
    return jobId;
  }

  // PENDING → QUEUED before the flow is added: a fast worker may start a task the moment it lands.
  private async enqueue(
    tenant: string,
    jobId: string,
    flow: Parameters<FlowProducer['add']>[0],
  ): Promise<void> {
    await this.store.transition(tenant, jobId, ['PENDING'], 'QUEUED');
    try {
      await this.flows.add(flow);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.store.transition(tenant, jobId, ['QUEUED'], 'ERROR', {
        endedAt: new Date().toISOString(),
        error: JSON.stringify({ code: 'EnqueueFailed', message }),
      });
      throw err;
    }
  }

  /**
   * Catches failures no worker reports: BullMQ fails a task that stalled more than `maxStalledCount`
   * times (and then its fan-in parent) inside a Lua script without a `failed` event. A running job whose
   * fan-in has failed is moved to ERROR here; called when a client reads the job.
   */
  async reconcile(tenant: string, jobId: string): Promise<void> {
    const parent = await this.queue.getJob(parentJobId(jobId));
    if (parent === undefined || (await parent.getState()) !== 'failed') return;
    await this.store.transition(tenant, jobId, ['PENDING', 'QUEUED', 'EXECUTING'], 'ERROR', {
      endedAt: new Date().toISOString(),
      error: JSON.stringify({ code: 'TaskFailed', message: parent.failedReason || 'a task failed' }),
    });
  }

  /** Marks a job ABORTED; workers skip its remaining tasks. Returns false if it had already ended. */
  async abort(tenant: string, jobId: string): Promise<boolean> {
    return this.store.transition(tenant, jobId, ['PENDING', 'QUEUED', 'EXECUTING'], 'ABORTED', {
      endedAt: new Date().toISOString(),
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.flows.close(), this.queue.close()]);
  }
}
