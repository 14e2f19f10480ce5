// The express application: VOSI (public), /sync and /async (bearer token), the signed result files, and
// errors — DALI error VOTables for /sync and job creation, plain text for the UWS sub-resources.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import type pg from 'pg';
import type { TapConfig } from './config.js';
import { HttpError, baseUrl, messageOf, requireUser, statusOf } from './http.js';
import type { JobStore } from './jobs.js';
import {
  checkRequest,
  collectParams,
  parseFormat,
  parseLang,
  parseMaxrec,
  parseQuery,
  toSql,
} from './params.js';
import { asyncRoutes } from './routes-async.js';
import type { S3Results } from './s3results.js';
import type { Signer } from '@skyport/service-kit/signing';
import { runSync } from './sync.js';
import type { Users } from '@skyport/service-kit/users';
import { availabilityXml, capabilitiesXml, tablesXml } from './vosi.js';
import { votableError } from './xml.js';

export interface AppDeps {
  readonly cfg: TapConfig;
  readonly pool: pg.Pool;
  readonly store: JobStore;
  readonly users: Users;
  readonly signer: Signer;
  /** Presigned result URLs when the Catalog's results are in a bucket (s3results.ts). */
  readonly s3?: S3Results;
  readonly now: () => number;
  /** Called with errors answered 5xx (the logger). */
  readonly onError?: (err: unknown, req: Request) => void;
}

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  const auth = requireUser(d.users);
  const base = express.Router();

  base.get('/availability', async (_req, res) => {
    try {
      await d.pool.query('SELECT 1');
      res.type('application/xml').send(availabilityXml(true, 'the catalog database answers'));
    } catch {
      res
        .status(503)
        .type('application/xml')
        .send(availabilityXml(false, 'the catalog database does not answer'));
    }
  });
  base.get('/capabilities', (req, res) => {
    res.type('application/xml').send(capabilitiesXml(d.cfg, baseUrl(req, d.cfg.basePath)));
  });
  base.get('/tables', async (_req, res) => {
    res.type('application/xml').send(await tablesXml(d.pool, d.cfg.schemas));
  });

  const sync = async (req: Request, res: Response): Promise<void> => {
    const p = collectParams(req.query, req.body);
    checkRequest(p);
    const lang = parseLang(p);
    const query = parseQuery(p);
    const format = parseFormat(p);
    const maxrec = parseMaxrec(p, d.cfg.maxrecDefault, d.cfg.maxrecHard);
    const sql = await toSql(lang, query);
    await runSync(d.pool, { sql, format, maxrec, timeoutSeconds: d.cfg.syncTimeoutSeconds }, res);
  };
  base.get('/sync', auth, sync);
  base.post('/sync', auth, form, sync);

  base.use(
    '/async',
    auth,
    form,
    asyncRoutes({
      cfg: d.cfg,
      store: d.store,
      signer: d.signer,
      now: d.now,
      ...(d.s3 !== undefined && { s3: d.s3 }),
    }),
  );

  // Result files: no token, a signature instead (signing.ts).
  base.get('/files/:id/:file', async (req, res) => {
    const id = String(req.params['id']);
    const file = String(req.params['file']);
    const q = req.query as Record<string, string | undefined>;
    const why = d.signer.check(`${id}/${file}`, q['expires'], q['sig']);
    if (why !== undefined) throw new HttpError(403, why);
    // Results in a bucket are never served from here (their links are presigned S3 URLs).
    if (d.s3 !== undefined) throw new HttpError(404, `no result file ${id}/${file}: results are in a bucket`);
    const job = await d.store.get(id);
    const result = job?.results.find((r) => r.file === file);
    if (job === undefined || result === undefined) throw new HttpError(404, `no result file ${id}/${file}`);
    const path = d.store.resultPath(job, result);
    const size = (await stat(path)).size;
    res.status(200).type(result.mediaType).set('Content-Length', String(size));
    res.set('Content-Disposition', `attachment; filename="${file}"`);
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(path);
      s.on('error', reject);
      res.on('close', () => {
        s.destroy();
        resolve();
      });
      s.pipe(res);
    });
  });

  app.use(d.cfg.basePath === '' ? '/' : d.cfg.basePath, base);
  app.use((_req, _res, next) => next(new HttpError(404, 'no such resource')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(err);
    if (status >= 500) d.onError?.(err, req);
    if (res.headersSent) {
      // The result was already streaming: cut the response so the client sees it incomplete.
      res.destroy();
      return;
    }
    const msg = messageOf(err);
    const dali = /\/(sync|async)\/?$/.test(req.path) || req.path.endsWith('/error');
    if (dali) res.status(status).type('application/x-votable+xml').send(votableError(msg));
    else
      res
        .status(status)
        .type('text/plain')
        .send(msg + '\n');
  });
  return app;
}
