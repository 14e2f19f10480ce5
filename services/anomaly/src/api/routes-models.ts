// Model routes: fit jobs, metadata, scoring (sync ≤ MAX_SYNC_ROWS, else a pool job), NDJSON streaming, SSE, webhooks.

import { randomInt } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { MAX_SAMPLE_SIZE, score, type ForestParams } from '../engine/index.js';
import type { Alert } from './alerts.js';
import { checkWebhookTarget, checkWebhookUrl } from './alerts.js';
import { ID, param, tenantOf, type ApiContext } from './context.js';
import { HttpError, notFound } from './errors.js';
import { checkFitSize } from './fit-size.js';
import { ingest } from './ingest.js';
import type { LoadedModel } from './model-cache.js';
import { charsetOf, decodedBody, LineSplitter, lingerThenClose } from './body.js';
import { mapNames, ndjsonRow, type ParseOptions } from './parse.js';
import { jobView } from './routes-data.js';
import { fitRequestSchema, validator, webhookRequestSchema } from './schemas.js';

interface FitBody {
  datasetId: string;
  name?: string;
  params?: Partial<ForestParams>;
  contamination?: number;
  threshold?: number;
  partitions?: number;
}

const validateFit = validator<FitBody>(fitRequestSchema);
const validateWebhook = validator<{ url: string }>(webhookRequestSchema);

/** Alerts for the points of a scored batch at or above the model's threshold. */
function alertsFor(
  tenant: string,
  m: LoadedModel,
  data: Float64Array,
  cols: number,
  scores: Float64Array,
  rowOffset: number,
): Omit<Alert, 'id' | 'at'>[] {
  const out: Omit<Alert, 'id' | 'at'>[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] ?? 0;
    if (s >= m.meta.threshold) {
      out.push({
        tenant,
        modelId: m.meta.id,
        modelVersion: m.meta.version,
        score: s,
        threshold: m.meta.threshold,
        point: Array.from(data.subarray(i * cols, (i + 1) * cols)),
        index: rowOffset + i,
      });
    }
  }
  return out;
}

/**
 * The column names input is mapped by, or null for positional input. A model fitted before repeated names were
 * refused (x,x,y) cannot map by name — {"x":1,"y":2} would fill both x columns — so its input is positional.
 */
function namesOf(m: LoadedModel): readonly string[] | null {
  const c = m.meta.columns;
  return c === null || new Set(c).size !== c.length ? null : c;
}

function sendScores(req: Request, res: Response, m: LoadedModel, scores: Float64Array): void {
  const accept = req.headers.accept ?? '';
  res.setHeader('X-Model-Id', m.meta.id);
  res.setHeader('X-Threshold', String(m.meta.threshold));
  if (accept.includes('application/octet-stream')) {
    res.type('application/octet-stream').setHeader('X-Shape', `${scores.length},1`);
    res.send(Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength));
  } else if (accept.includes('text/csv')) {
    const lines = ['score,anomaly'];
    for (const s of scores) lines.push(`${s},${s >= m.meta.threshold ? 1 : 0}`);
    res.type('text/csv').send(lines.join('\n') + '\n');
  } else {
    const anomalies: number[] = [];
    scores.forEach((s, i) => s >= m.meta.threshold && anomalies.push(i));
    res.json({
      modelId: m.meta.id,
      modelVersion: m.meta.version,
      threshold: m.meta.threshold,
      scores: Array.from(scores),
      anomalies,
    });
  }
}

/** Routes under /v1 for models, scoring and notifications. */
export function modelRoutes(ctx: ApiContext): Router {
  const r = Router();
  const json = express.json({ limit: '64kb', type: () => true });

  r.post('/models', json, async (req, res) => {
    const tenant = tenantOf(res);
    const body = validateFit(req.body);
    if (body.contamination !== undefined && body.threshold !== undefined) {
      throw new HttpError(
        400,
        'InvalidRequest',
        '/threshold: give either contamination or threshold, not both',
        { field: '/threshold' },
      );
    }
    const ds = await ctx.store.getDatasetMeta(tenant, body.datasetId);
    if (ds === null || ds.temporary)
      throw new HttpError(404, 'NotFound', `dataset ${JSON.stringify(body.datasetId)} not found`, {
        field: '/datasetId',
      });
    const p = body.params ?? {};
    const extensionLevel = p.extensionLevel ?? 0;
    if (extensionLevel > ds.cols - 1) {
      throw new HttpError(
        400,
        'ExtensionLevelOutOfRange',
        `/params/extensionLevel: must be in [0, ${ds.cols - 1}] for ${ds.cols} columns, got ${extensionLevel}`,
        { field: '/params/extensionLevel' },
      );
    }
    if (ds.rows < 2)
      throw new HttpError(400, 'TooFewRows', `dataset has ${ds.rows} row(s); a forest needs at least 2`, {
        field: '/datasetId',
      });
    const ntrees = p.ntrees ?? 100;
    const sampleSize = p.sampleSize ?? 256;
    const effective = Math.min(sampleSize, ds.rows);
    // The engine refuses this too, but only in the worker; the size projection would cost O(ψ) here first.
    if (effective > MAX_SAMPLE_SIZE)
      throw new HttpError(
        400,
        'InvalidParameter',
        `/params/sampleSize: ${effective} (after clamping to the ${ds.rows} rows) exceeds the limit of ${MAX_SAMPLE_SIZE}`,
        { field: '/params/sampleSize' },
      );
    checkFitSize({
      ntrees,
      dims: ds.cols,
      extensionLevel,
      sampleSize: effective,
      standardize: p.standardize ?? extensionLevel > 0,
    });
    const params: ForestParams = {
      ntrees,
      sampleSize,
      extensionLevel,
      // A random seed is still recorded in the job spec and the model, so the fit stays reproducible.
      seed: p.seed ?? randomInt(2 ** 31),
      ...(p.standardize === undefined ? {} : { standardize: p.standardize }),
      ...(p.compat === undefined ? {} : { compat: p.compat }),
    };
    const jobId = await ctx.coordinator.submitFit(tenant, {
      dataset: ds,
      params,
      contamination: body.contamination ?? null,
      threshold: body.threshold ?? null,
      name: body.name ?? 'default',
      ...(body.partitions === undefined ? {} : { partitions: body.partitions }),
    });
    ctx.metrics.jobsSubmitted.inc({ kind: 'fit' });
    ctx.log.info({ tenant, job: jobId, dataset: ds.id }, 'Submitted fit job');
    const job = await ctx.store.getJob(tenant, jobId);
    if (job === null) throw new Error(`job ${jobId} vanished after submission`);
    res
      .status(202)
      .location(`/v1/jobs/${jobId}`)
      .json(await jobView(ctx, job));
  });

  r.get('/models', async (_req, res) => {
    res.json({ items: await ctx.store.listModels(tenantOf(res)) });
  });

  r.get('/models/:id', async (req, res) => {
    const meta = await ctx.store.getModelMeta(tenantOf(res), param(req, 'id'));
    if (meta === null) throw notFound('model', param(req, 'id'));
    res.json(meta);
  });

  r.get('/models/:id/binary', async (req, res) => {
    const bytes = await ctx.store.getModelBytes(tenantOf(res), param(req, 'id'));
    if (bytes === null) throw notFound('model', param(req, 'id'));
    res.type('application/octet-stream').send(bytes);
  });

  r.post('/models/:id/score', async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    const got = await ingest(req, {
      tenant,
      store: ctx.store,
      chunkRows: ctx.cfg.chunkRows,
      maxBytes: ctx.cfg.maxUploadBytes,
      maxCols: ctx.cfg.maxCols,
      holdRows: ctx.cfg.maxSyncRows,
      temporary: true,
      expectCols: m.meta.dims,
      columns: namesOf(m),
    });
    if (got.kind === 'memory') {
      const scores = score(m.model, got.matrix);
      ctx.metrics.pointsScored.inc({ path: 'sync' }, scores.length);
      await ctx.alerts.publish(alertsFor(tenant, m, got.matrix.data, got.matrix.cols, scores, 0));
      sendScores(req, res, m, scores);
      return;
    }
    const jobId = await ctx.coordinator.submitScore(tenant, {
      dataset: got.dataset,
      modelId: m.meta.id,
      threshold: m.meta.threshold,
    });
    ctx.metrics.jobsSubmitted.inc({ kind: 'score' });
    ctx.log.info({ tenant, job: jobId, rows: got.dataset.rows }, 'Submitted score job');
    const job = await ctx.store.getJob(tenant, jobId);
    if (job === null) throw new Error(`job ${jobId} vanished after submission`);
    res
      .status(202)
      .location(`/v1/jobs/${jobId}`)
      .json(await jobView(ctx, job));
  });

  r.post('/models/:id/score-dataset', json, async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    const datasetId = (req.body as { datasetId?: unknown } | undefined)?.datasetId;
    if (typeof datasetId !== 'string' || !ID.test(datasetId))
      throw new HttpError(400, 'InvalidRequest', '/datasetId: must be a dataset id', { field: '/datasetId' });
    const ds = await ctx.store.getDatasetMeta(tenant, datasetId);
    if (ds === null || ds.temporary)
      throw new HttpError(404, 'NotFound', `dataset ${JSON.stringify(datasetId)} not found`, {
        field: '/datasetId',
      });
    if (ds.cols !== m.meta.dims)
      throw new HttpError(
        400,
        'WrongWidth',
        `dataset has ${ds.cols} columns, the model expects ${m.meta.dims}`,
        { field: '/datasetId', expected: m.meta.dims, got: ds.cols },
      );
    // Both named: the dataset's columns are matched to the model's by name (the task reorders each chunk).
    const names = namesOf(m);
    const order =
      ds.columns === null || names === null
        ? null
        : mapNames(ds.columns, names, { row: 0, line: 0, field: '/datasetId' });
    const jobId = await ctx.coordinator.submitScore(tenant, {
      dataset: ds,
      modelId: m.meta.id,
      threshold: m.meta.threshold,
      ...(order === null || order.every((to, from) => to === from) ? {} : { columnOrder: order }),
    });
    ctx.metrics.jobsSubmitted.inc({ kind: 'score' });
    const job = await ctx.store.getJob(tenant, jobId);
    if (job === null) throw new Error(`job ${jobId} vanished after submission`);
    res
      .status(202)
      .location(`/v1/jobs/${jobId}`)
      .json(await jobView(ctx, job));
  });

  r.post('/models/:id/stream', async (req, res) => streamScores(ctx, req, res));

  r.get('/models/:id/events', async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (a: Alert): void => {
      res.write(`id: ${a.id}\nevent: anomaly\ndata: ${JSON.stringify(a)}\n\n`);
    };
    // A reconnecting client (EventSource sends Last-Event-ID) first gets what it missed from the model's recent
    // alerts; live alerts arriving meanwhile wait, and those the replay already carried are not sent twice.
    const last = req.get('last-event-id');
    let held: Alert[] | undefined = last === undefined ? undefined : [];
    const unsubscribe = await ctx.alerts.subscribe(tenant, m.meta.id, (a) => {
      if (held === undefined) send(a);
      else held.push(a);
    });
    if (held !== undefined) {
      const recent = await ctx.alerts.recent(tenant, m.meta.id);
      const at = recent.findIndex((a) => a.id === last);
      if (at < 0)
        res.write(`: event ${last ?? ''} is not among the ${recent.length} kept; replaying all of them\n\n`);
      const replay = recent.slice(at + 1);
      const replayed = new Set(replay.map((a) => a.id));
      for (const a of replay) send(a);
      for (const a of held) if (!replayed.has(a.id)) send(a);
      held = undefined;
    }
    // Written after subscribing: a client that has read this line will see every later alert.
    res.write(`: subscribed to ${m.meta.id}\n\n`);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  r.post('/models/:id/webhooks', json, async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    const body = validateWebhook(req.body);
    const url = checkWebhookUrl(body.url, ctx.cfg.webhookAllowedHosts);
    await checkWebhookTarget(url, ctx.cfg.webhookAllowedHosts);
    const hook = await ctx.alerts.addWebhook(tenant, m.meta.id, url.href);
    ctx.log.info({ tenant, model: m.meta.id, webhook: hook.id }, 'Registered webhook');
    res.status(201).json(hook);
  });

  r.get('/models/:id/webhooks', async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    res.json({ items: await ctx.alerts.listWebhooks(tenant, m.meta.id) });
  });

  r.delete('/models/:id/webhooks/:hook', async (req, res) => {
    const tenant = tenantOf(res);
    const m = await ctx.models.get(tenant, param(req, 'id'));
    if (!(await ctx.alerts.deleteWebhook(tenant, m.meta.id, param(req, 'hook'))))
      throw notFound('webhook', param(req, 'hook'));
    res.status(204).end();
  });

  return r;
}

/**
 * NDJSON in, NDJSON out: every complete input line received so far is scored as one batch and answered
 * at once, so a client may keep one request open and send points as they arrive.
 */
async function streamScores(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const tenant = tenantOf(res);
  const m = await ctx.models.get(tenant, param(req, 'id'));
  const d = m.meta.dims;
  const opts: ParseOptions = { maxBytes: Number.MAX_SAFE_INTEGER, maxCols: d, expectCols: d };
  const shape = { cols: d as number | null, setCols: (): void => undefined };
  // Object lines map by the model's column names; without names, the first object's key order is kept.
  const names = namesOf(m);
  let keys = names === null ? null : [...names];
  const split = new LineSplitter(charsetOf(req.headers['content-type']));
  const body = decodedBody(req);
  let row = 0;
  let line = 0;
  // Headers go out at once: a streaming client waits for them before it sends its first point.
  res.writeHead(200, {
    'Content-Type': 'application/x-ndjson',
    'Cache-Control': 'no-cache',
    'X-Model-Id': m.meta.id,
  });
  res.flushHeaders();
  const batch = async (text: string[]): Promise<void> => {
    const buf = new Float64Array(text.length * d);
    let n = 0;
    for (const t of text) {
      line++;
      if (t.trim() === '') continue;
      const r = ndjsonRow(t, row + n, line, opts, shape, keys, true);
      keys ??= r.keys;
      const values = r.values;
      buf.set(values, n * d);
      n++;
    }
    if (n === 0) return;
    const data = buf.subarray(0, n * d);
    const scores = score(m.model, { data, rows: n, cols: d });
    ctx.metrics.pointsScored.inc({ path: 'stream' }, n);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = scores[i] ?? 0;
      out.push(
        `{"row":${row + i},"score":${s},"anomaly":${s >= m.meta.threshold},"modelId":"${m.meta.id}","modelVersion":${m.meta.version}}\n`,
      );
    }
    res.write(out.join(''));
    const alerts = alertsFor(tenant, m, data, d, scores, row);
    row += n;
    await ctx.alerts.publish(alerts);
  };
  try {
    for await (const chunk of body) await batch(split.push(chunk));
    const rest = split.end();
    if (rest !== null && rest.trim() !== '') await batch([rest]);
    res.end();
  } catch (err) {
    // The status line is long gone: the error becomes the last line of the stream.
    lingerThenClose(req, res);
    if (!(err instanceof HttpError)) ctx.log.error({ err }, 'Failed to score a stream');
    const body =
      err instanceof HttpError ? err.toBody() : { error: 'internal error', code: 'Internal', detail: {} };
    res.end(JSON.stringify(body) + '\n');
  }
}
