// TAP /async as UWS 1.1: the job list (PHASE, AFTER, LAST), creation (303 to the job, PHASE=RUN starts
// it), the job (blocking WAIT), its phase (RUN, ABORT), executionduration, destruction, parameters,
// quote, owner, error, results (each a 303 to a freshly signed URL) and deletion (DELETE or ACTION=DELETE).
// A job is visible to its owner only: another user's job is 404, as an unknown id.

import type { Request, Response, Router } from 'express';
import express from 'express';
import type { TapConfig } from './config.js';
import { ACTIVE_PHASES, PHASES, type Job, type JobParameters, type JobStore, type Phase } from './jobs.js';
import { HttpError, baseUrl, userOf } from './http.js';
import {
  ParamError,
  checkRequest,
  collectParams,
  one,
  parseFormat,
  parseLang,
  parseMaxrec,
  parseQuery,
  type Params,
} from './params.js';
import type { S3Results } from './s3results.js';
import type { Signer } from '@skyport/service-kit/signing';
import { jobListXml, jobXml, parameterList } from './uws.js';
import { XML_DECL, el, votableError } from './xml.js';

export interface AsyncDeps {
  readonly cfg: TapConfig;
  readonly store: JobStore;
  readonly signer: Signer;
  readonly now: () => number;
  /** Results in a bucket: links are presigned GETs of the objects instead of this service's signed URLs. */
  readonly s3?: S3Results;
}

const params = (req: Request): Params => collectParams(req.query, req.body);
const isPhase = (s: string): s is Phase => (PHASES as readonly string[]).includes(s);

function jobParameters(p: Params, cfg: TapConfig): JobParameters {
  checkRequest(p);
  return {
    lang: parseLang(p),
    query: parseQuery(p),
    format: parseFormat(p),
    maxrec: parseMaxrec(p, cfg.maxrecDefault, cfg.maxrecHard),
  };
}

/** EXECUTIONDURATION seconds; 0 (UWS: unlimited) and anything above the hard limit give the hard limit. */
function parseDuration(raw: string, cfg: TapConfig): number {
  if (!/^\d+$/.test(raw.trim()))
    throw new ParamError('EXECUTIONDURATION', `'${raw}' is not a whole number of seconds`);
  const n = Number(raw.trim());
  return n === 0 ? cfg.executionDurationHard : Math.min(n, cfg.executionDurationHard);
}

/** DESTRUCTION as ISO 8601; later than now + the hard retention is brought back to it. */
function parseDestruction(raw: string, cfg: TapConfig, now: number): Date {
  const t = Date.parse(raw.trim());
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw.trim()) || Number.isNaN(t))
    throw new ParamError('DESTRUCTION', `'${raw}' is not an ISO 8601 date-time`);
  if (t <= now) throw new ParamError('DESTRUCTION', `${raw} is in the past`);
  return new Date(Math.min(t, now + cfg.destructionHardSeconds * 1000));
}

function listFilter(p: Params, now: number): { phases?: Phase[]; after?: Date; last?: number } {
  const phases = (p.get('PHASE') ?? []).map((s) => s.trim().toUpperCase());
  for (const ph of phases)
    if (!isPhase(ph)) throw new ParamError('PHASE', `'${ph}' is not a UWS phase (${PHASES.join(', ')})`);
  const after = one(p, 'AFTER');
  const last = one(p, 'LAST');
  let afterDate: Date | undefined;
  if (after !== undefined) {
    const t = Date.parse(after);
    if (Number.isNaN(t)) throw new ParamError('AFTER', `'${after}' is not an ISO 8601 date-time`);
    afterDate = new Date(Math.min(t, now));
  }
  if (last !== undefined && !/^[1-9]\d*$/.test(last.trim()))
    throw new ParamError('LAST', `'${last}' is not a positive integer`);
  return {
    ...(phases.length > 0 && { phases: phases as Phase[] }),
    ...(afterDate !== undefined && { after: afterDate }),
    ...(last !== undefined && { last: Number(last.trim()) }),
  };
}

export function asyncRoutes(d: AsyncDeps): Router {
  const r = express.Router();
  const asyncUrl = (req: Request): string => `${baseUrl(req, d.cfg.basePath)}/async`;
  const jobUrl = (req: Request, id: string): string => `${asyncUrl(req)}/${id}`;

  /** The request's job: 404 when unknown or another user's (whose job ids are not revealed). */
  async function ownJob(req: Request, res: Response): Promise<Job> {
    const id = String(req.params['id']);
    const job = await d.store.get(id, userOf(res));
    if (job === undefined) throw new HttpError(404, `no job ${id}`);
    return job;
  }

  const sendJob = (req: Request, res: Response, job: Job): void => {
    res.type('application/xml').send(jobXml(job, jobUrl(req, job.id)));
  };
  const text = (res: Response, s: string): void => {
    res.type('text/plain').send(s);
  };

  r.get('/', async (req, res) => {
    const jobs = await d.store.list(userOf(res), listFilter(params(req), d.now()));
    res.type('application/xml').send(jobListXml(jobs, asyncUrl(req)));
  });

  r.post('/', async (req, res) => {
    const p = params(req);
    const parameters = jobParameters(p, d.cfg);
    const dur = one(p, 'EXECUTIONDURATION');
    const dest = one(p, 'DESTRUCTION');
    const runId = one(p, 'RUNID') ?? one(p, 'JOBNAME');
    const phase = one(p, 'PHASE');
    if (phase !== undefined && phase.toUpperCase() !== 'RUN')
      throw new ParamError('PHASE', `'${phase}' at creation: only RUN (start at once) is allowed`);
    const now = d.now();
    const job = await d.store.create({
      owner: userOf(res),
      ...(runId !== undefined && { runId }),
      parameters,
      executionDuration: dur === undefined ? d.cfg.executionDurationDefault : parseDuration(dur, d.cfg),
      destruction:
        dest === undefined
          ? new Date(now + d.cfg.destructionDefaultSeconds * 1000)
          : parseDestruction(dest, d.cfg, now),
    });
    if (phase !== undefined) await d.store.run(job.id);
    res.redirect(303, jobUrl(req, job.id));
  });

  r.get('/:id', async (req, res) => {
    const job = await ownJob(req, res);
    const p = params(req);
    const wait = one(p, 'WAIT');
    if (wait === undefined) return sendJob(req, res, job);
    if (!/^(-1|\d+)$/.test(wait.trim()))
      throw new ParamError('WAIT', `'${wait}' is not -1 or a number of seconds`);
    const seconds = Number(wait) < 0 ? d.cfg.maxWaitSeconds : Math.min(Number(wait), d.cfg.maxWaitSeconds);
    const ph = one(p, 'PHASE')?.toUpperCase();
    if (ph !== undefined && !(isPhase(ph) && ACTIVE_PHASES.has(ph)))
      throw new ParamError('PHASE', `WAIT's PHASE must be PENDING, QUEUED or EXECUTING, got '${ph}'`);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const after = await d.store.wait(job.id, ph, seconds * 1000, gone.signal);
    if (after === undefined) throw new HttpError(404, `job ${job.id} was deleted`);
    sendJob(req, res, after);
  });

  const destroy = async (req: Request, res: Response): Promise<void> => {
    const job = await ownJob(req, res);
    await d.store.delete(job.id);
    res.redirect(303, asyncUrl(req));
  };
  r.delete('/:id', destroy);
  r.post('/:id', async (req, res) => {
    const action = one(params(req), 'ACTION');
    if (action?.toUpperCase() !== 'DELETE')
      throw new ParamError('ACTION', `expected DELETE, got '${action ?? ''}'`);
    await destroy(req, res);
  });

  r.get('/:id/phase', async (req, res) => text(res, (await ownJob(req, res)).phase));
  r.post('/:id/phase', async (req, res) => {
    const job = await ownJob(req, res);
    const phase = one(params(req), 'PHASE')?.toUpperCase();
    if (phase === 'RUN') await d.store.run(job.id);
    else if (phase === 'ABORT') await d.store.abort(job.id);
    else throw new ParamError('PHASE', `expected RUN or ABORT, got '${phase ?? ''}'`);
    res.redirect(303, jobUrl(req, job.id));
  });

  r.get('/:id/executionduration', async (req, res) =>
    text(res, String((await ownJob(req, res)).executionDuration)),
  );
  r.post('/:id/executionduration', async (req, res) => {
    const job = await ownJob(req, res);
    const raw = one(params(req), 'EXECUTIONDURATION');
    if (raw === undefined) throw new ParamError('EXECUTIONDURATION', 'is required');
    await d.store.setExecutionDuration(job.id, parseDuration(raw, d.cfg));
    res.redirect(303, jobUrl(req, job.id));
  });

  r.get('/:id/destruction', async (req, res) =>
    text(res, (await ownJob(req, res)).destruction.toISOString()),
  );
  r.post('/:id/destruction', async (req, res) => {
    const job = await ownJob(req, res);
    const raw = one(params(req), 'DESTRUCTION');
    if (raw === undefined) throw new ParamError('DESTRUCTION', 'is required');
    await d.store.setDestruction(job.id, parseDestruction(raw, d.cfg, d.now()));
    res.redirect(303, jobUrl(req, job.id));
  });

  r.get('/:id/quote', async (req, res) => text(res, (await ownJob(req, res)).quote?.toISOString() ?? ''));
  r.get('/:id/owner', async (req, res) => text(res, (await ownJob(req, res)).owner));

  r.get('/:id/error', async (req, res) => {
    const job = await ownJob(req, res);
    if (job.error === undefined) throw new HttpError(404, `job ${job.id} has no error (phase ${job.phase})`);
    res.type('application/x-votable+xml').send(votableError(`${job.error.code}: ${job.error.message}`));
  });

  r.get('/:id/parameters', async (req, res) => {
    const job = await ownJob(req, res);
    const ps = parameterList(job)
      .map(([k, v]) => `  ${el('uws:parameter', v, { id: k })}\n`)
      .join('');
    res
      .type('application/xml')
      .send(
        `${XML_DECL}<uws:parameters xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0">\n${ps}</uws:parameters>\n`,
      );
  });
  r.post('/:id/parameters', async (req, res) => {
    const job = await ownJob(req, res);
    const p = collectParams(Object.fromEntries(parameterList(job).map(([k, v]) => [k, v])));
    for (const [k, v] of params(req)) p.set(k, [...v]);
    await d.store.setParameters(job.id, jobParameters(p, d.cfg));
    res.redirect(303, jobUrl(req, job.id));
  });

  r.get('/:id/results', async (req, res) => {
    const job = await ownJob(req, res);
    const url = jobUrl(req, job.id);
    const rs = job.results
      .map(
        (x) =>
          '  ' +
          el('uws:result', undefined, {
            id: x.id,
            'xlink:href': `${url}/results/${x.id}`,
            size: String(x.size),
            'mime-type': x.mediaType,
          }) +
          '\n',
      )
      .join('');
    res
      .type('application/xml')
      .send(
        `${XML_DECL}<uws:results xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink">\n${rs}</uws:results>\n`,
      );
  });

  r.get('/:id/results/:rid', async (req, res) => {
    const job = await ownJob(req, res);
    const result = job.results.find((x) => x.id === req.params['rid']);
    if (result === undefined)
      throw new HttpError(
        404,
        `job ${job.id} has no result '${String(req.params['rid'])}' (phase ${job.phase})`,
      );
    if (d.s3 !== undefined) {
      const url = d.s3.url(job, result.file);
      if (url === undefined) throw new HttpError(404, `job ${job.id} has no object in the results bucket`);
      res.redirect(303, url);
      return;
    }
    const path = `${job.id}/${result.file}`;
    const { expires, sig } = d.signer.sign(path);
    res.redirect(303, `${baseUrl(req, d.cfg.basePath)}/files/${path}?expires=${expires}&sig=${sig}`);
  });

  return r;
}
