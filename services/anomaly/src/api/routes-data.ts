// Dataset and job routes: uploads, listings, job status with UWS phases, results as CSV or binary, abort.

import { Router, type Response } from 'express';
import { PHASES, type JobRecord, type Phase } from '../store/store.js';
import { bufferToFloat64 } from '../store/matrix.js';
import type { ScoreResult } from '../pool/protocol.js';
import { param, tenantOf, type ApiContext } from './context.js';
import { HttpError, notFound } from './errors.js';
import { ingest } from './ingest.js';

/** Public view of a dataset record. */
function datasetView(d: {
  id: string;
  rows: number;
  cols: number;
  chunkRows: number;
  chunks: number;
  columns: readonly string[] | null;
  format: string;
  createdAt: string;
}): object {
  return {
    id: d.id,
    rows: d.rows,
    cols: d.cols,
    chunkRows: d.chunkRows,
    chunks: d.chunks,
    columns: d.columns,
    format: d.format,
    createdAt: d.createdAt,
  };
}

/** Public view of a job with its progress. */
export async function jobView(ctx: ApiContext, job: JobRecord): Promise<object> {
  const done =
    job.phase === 'COMPLETED'
      ? job.tasks
      : Math.min(job.tasks, await ctx.store.doneCount(job.tenant, job.id));
  return {
    id: job.id,
    kind: job.kind,
    phase: job.phase,
    progress: job.tasks === 0 ? 0 : done / job.tasks,
    tasks: job.tasks,
    tasksDone: done,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    spec: JSON.parse(job.spec) as unknown,
    result: job.result === null ? null : (JSON.parse(job.result) as unknown),
    error: job.error === null ? null : (JSON.parse(job.error) as unknown),
    links: {
      self: `/v1/jobs/${job.id}`,
      ...(job.kind === 'score' ? { results: `/v1/jobs/${job.id}/results` } : {}),
    },
  };
}

/** The filters of `GET /v1/jobs`, or a 400 naming the bad parameter. */
export function jobListQuery(q: Record<string, unknown>): {
  phases?: Set<Phase>;
  kind?: 'fit' | 'score';
  last: number;
} {
  const bad = (field: string, message: string): HttpError =>
    new HttpError(400, 'InvalidRequest', `${field}: ${message}`, { field });
  const strings = (v: unknown): string[] =>
    (Array.isArray(v) ? v : v === undefined ? [] : [v])
      .flatMap((x) => String(x).split(','))
      .filter((x) => x !== '');
  const out: { phases?: Set<Phase>; kind?: 'fit' | 'score'; last: number } = { last: 100 };
  const phases = strings(q['phase']).map((p) => p.toUpperCase());
  for (const p of phases)
    if (!PHASES.includes(p as Phase))
      throw bad('phase', `${JSON.stringify(p)} is not one of ${PHASES.join(', ')}`);
  if (phases.length > 0) out.phases = new Set(phases as Phase[]);
  const kind = strings(q['kind']);
  if (kind.length > 1 || (kind[0] !== undefined && kind[0] !== 'fit' && kind[0] !== 'score'))
    throw bad('kind', 'must be fit or score');
  if (kind[0] === 'fit' || kind[0] === 'score') out.kind = kind[0];
  const last = strings(q['last']);
  if (last.length > 0) {
    const n = Number(last[0]);
    if (last.length > 1 || !Number.isInteger(n) || n < 1 || n > 1000)
      throw bad('last', `must be an integer from 1 to 1000, got ${JSON.stringify(last.join(','))}`);
    out.last = n;
  }
  return out;
}

/** Negotiates `csv` or `binary` from `?format=` or Accept (default csv). */
export function wantsBinary(accept: string | undefined, format: unknown): boolean {
  if (format === 'binary') return true;
  if (format === 'csv') return false;
  if (format !== undefined)
    throw new HttpError(400, 'InvalidRequest', 'format must be csv or binary', { field: 'format' });
  return (accept ?? '').includes('application/octet-stream');
}

async function streamScores(ctx: ApiContext, job: JobRecord, binary: boolean, res: Response): Promise<void> {
  const r = JSON.parse(job.result ?? '{}') as ScoreResult;
  res.status(200);
  res.setHeader('X-Rows', String(r.rows));
  res.setHeader('X-Threshold', String(r.threshold));
  res.setHeader('X-Model-Id', r.modelId);
  if (binary) {
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('X-Shape', `${r.rows},1`);
    res.setHeader('Content-Length', String(r.rows * 8));
  } else {
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.write('score,anomaly\n');
  }
  for (let i = 0; i < r.chunks; i++) {
    const buf = await ctx.store.getTaskOutput(job.tenant, job.id, i);
    let ok: boolean;
    if (binary) ok = res.write(buf);
    else {
      const s = bufferToFloat64(buf);
      const lines: string[] = [];
      for (const x of s) lines.push(`${x},${x >= r.threshold ? 1 : 0}`);
      ok = res.write(lines.join('\n') + '\n');
    }
    if (!ok) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** Routes under /v1 for datasets and jobs. */
export function dataRoutes(ctx: ApiContext): Router {
  const r = Router();

  r.post('/datasets', async (req, res) => {
    const tenant = tenantOf(res);
    const got = await ingest(req, {
      tenant,
      store: ctx.store,
      chunkRows: ctx.cfg.chunkRows,
      maxBytes: ctx.cfg.maxUploadBytes,
      maxCols: ctx.cfg.maxCols,
      holdRows: 0,
      temporary: false,
    });
    if (got.kind !== 'stored') throw new Error('dataset upload stayed in memory');
    ctx.metrics.uploadBytes.inc({ format: got.dataset.format }, got.dataset.rows * got.dataset.cols * 8);
    ctx.log.info(
      { tenant, dataset: got.dataset.id, rows: got.dataset.rows, cols: got.dataset.cols },
      'Stored dataset',
    );
    res.status(201).location(`/v1/datasets/${got.dataset.id}`).json(datasetView(got.dataset));
  });

  r.get('/datasets', async (_req, res) => {
    const list = await ctx.store.listDatasets(tenantOf(res));
    res.json({ items: list.map(datasetView) });
  });

  r.get('/datasets/:id', async (req, res) => {
    const d = await ctx.store.getDatasetMeta(tenantOf(res), param(req, 'id'));
    if (d === null || d.temporary) throw notFound('dataset', param(req, 'id'));
    res.json(datasetView(d));
  });

  r.delete('/datasets/:id', async (req, res) => {
    const tenant = tenantOf(res);
    const d = await ctx.store.getDatasetMeta(tenant, param(req, 'id'));
    if (d === null || d.temporary) throw notFound('dataset', param(req, 'id'));
    await ctx.store.deleteDataset(tenant, d.id, d.chunks);
    res.status(204).end();
  });

  // UWS-style job list: newest first; `phase` (repeatable or comma-separated), `kind` and `last` filter it.
  r.get('/jobs', async (req, res) => {
    const tenant = tenantOf(res);
    const { phases, kind, last } = jobListQuery(req.query);
    const jobs = await ctx.store.listJobs(
      tenant,
      last,
      (j) => (phases === undefined || phases.has(j.phase)) && (kind === undefined || j.kind === kind),
    );
    res.json({ items: await Promise.all(jobs.map((j) => jobView(ctx, j))) });
  });

  r.get('/jobs/:id', async (req, res) => {
    const tenant = tenantOf(res);
    let job = await ctx.store.getJob(tenant, param(req, 'id'));
    if (job === null) throw notFound('job', param(req, 'id'));
    if (job.phase === 'QUEUED' || job.phase === 'EXECUTING') {
      await ctx.coordinator.reconcile(tenant, job.id);
      job = (await ctx.store.getJob(tenant, job.id)) ?? job;
    }
    res.json(await jobView(ctx, job));
  });

  r.get('/jobs/:id/results', async (req, res) => {
    const job = await ctx.store.getJob(tenantOf(res), param(req, 'id'));
    if (job === null) throw notFound('job', param(req, 'id'));
    if (job.phase !== 'COMPLETED') {
      throw new HttpError(409, 'JobNotCompleted', `job ${job.id} is ${job.phase}`, {
        jobId: job.id,
        phase: job.phase,
      });
    }
    if (job.kind === 'fit') {
      res.json(JSON.parse(job.result ?? '{}'));
      return;
    }
    await streamScores(ctx, job, wantsBinary(req.headers.accept, req.query['format']), res);
  });

  // UWS-style abort: DELETE or POST phase=ABORT both stop the job; finished jobs keep their phase.
  const abort = async (id: string, res: Response): Promise<void> => {
    const tenant = tenantOf(res);
    const job = await ctx.store.getJob(tenant, id);
    if (job === null) throw notFound('job', id);
    await ctx.coordinator.abort(tenant, id);
    const now = await ctx.store.getJob(tenant, id);
    res.json(await jobView(ctx, now ?? job));
  };
  r.delete('/jobs/:id', async (req, res) => abort(param(req, 'id'), res));
  r.post('/jobs/:id/phase', async (req, res) => {
    const phase = typeof req.query['PHASE'] === 'string' ? req.query['PHASE'] : '';
    if (phase.toUpperCase() !== 'ABORT')
      throw new HttpError(400, 'InvalidRequest', 'PHASE must be ABORT', { field: 'PHASE' });
    await abort(param(req, 'id'), res);
  });

  return r;
}
