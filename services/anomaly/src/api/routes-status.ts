// The pool status the operator's autoscaler reads (GET /v1/status): queue depth, tasks and jobs in
// progress, workers connected, models stored. Deployment-wide (the task queue is shared by every tenant),
// so it reveals counts only, never ids or names.

import { Router } from 'express';
import type { ApiContext } from './context.js';

/** Body of `GET /v1/status`. */
export interface PoolStatus {
  /** Tasks waiting for a worker (waiting + prioritized + delayed): what autoscaling divides by its target. */
  readonly queueDepth: number;
  /** Tasks a worker is running now. */
  readonly tasksRunning: number;
  /** Jobs whose tasks are still queued or running (their parent task waits for its children). */
  readonly jobsRunning: number;
  /** Worker processes connected to the task queue (BullMQ's named worker connections). */
  readonly workers: number;
  /** Model records stored, summed over the configured tenants. */
  readonly modelsStored: number;
  readonly time: string;
}

/** Reads the status from Redis (a handful of commands; no scan). */
export async function poolStatus(ctx: ApiContext): Promise<PoolStatus> {
  const q = ctx.coordinator.queue;
  const [counts, workers, models] = await Promise.all([
    q.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'waiting-children'),
    q.getWorkersCount(),
    Promise.all(ctx.cfg.tenants.map((t) => ctx.store.redis.zcard(ctx.store.keys.modelIndex(t.name)))),
  ]);
  const n = (k: string): number => counts[k] ?? 0;
  return {
    queueDepth: n('waiting') + n('prioritized') + n('delayed'),
    tasksRunning: n('active'),
    jobsRunning: n('waiting-children'),
    workers,
    modelsStored: models.reduce((a, b) => a + b, 0),
    time: new Date().toISOString(),
  };
}

/** `GET /status`, mounted under the authenticated `/v1`. */
export function statusRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/status', async (_req, res) => {
    res.json(await poolStatus(ctx));
  });
  return r;
}
