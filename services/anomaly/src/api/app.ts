// The express application: auth, probes, metrics, OpenAPI, the /v1 routes and JSON errors.

import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { EngineError } from '../engine/index.js';
import type { ApiContext } from './context.js';
import { lingerThenClose } from './body.js';
import { HttpError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { dataRoutes } from './routes-data.js';
import { modelRoutes } from './routes-models.js';
import { statusRoutes } from './routes-status.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Resolves `Authorization: Bearer <token>` to a tenant (constant-time comparison over all tokens). */
function auth(ctx: ApiContext): (req: Request, res: Response, next: NextFunction) => void {
  const tokens = ctx.cfg.tenants.map((t) => ({ name: t.name, hash: digest(t.token) }));
  return (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) {
      next(new HttpError(401, 'Unauthorized', 'missing bearer token', { field: 'Authorization' }));
      return;
    }
    const h = digest(m[1]);
    let tenant: string | null = null;
    for (const t of tokens) if (timingSafeEqual(h, t.hash)) tenant = t.name;
    if (tenant === null) {
      next(new HttpError(401, 'Unauthorized', 'unknown bearer token', { field: 'Authorization' }));
      return;
    }
    res.locals['tenant'] = tenant;
    next();
  };
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof EngineError) {
    const detail = {
      ...(err.field === undefined ? {} : { field: err.field }),
      ...(err.row === undefined ? {} : { row: err.row }),
      ...(err.col === undefined ? {} : { column: err.col }),
    };
    return new HttpError(400, err.code, err.message, detail);
  }
  // body-parser errors carry an http status and a type
  const e = err as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const code =
      e.type === 'entity.too.large'
        ? 'PayloadTooLarge'
        : e.type === 'entity.parse.failed'
          ? 'InvalidJson'
          : 'BadRequest';
    return new HttpError(e.status, code, typeof e.message === 'string' ? e.message : 'bad request', {
      field: '/',
    });
  }
  return null;
}

/** Builds the app (no listening; api-main.ts and tests own the server). */
export function createApp(ctx: ApiContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.baseUrl ?? '') + ((req.route as { path?: string } | undefined)?.path ?? '');
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      ctx.metrics.requests.observe(
        { method: req.method, route: route || 'unmatched', status: String(res.statusCode) },
        seconds,
      );
      ctx.log.debug(
        { method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 },
        'Handled request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await Promise.race([
        ctx.store.redis.ping(),
        new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000)),
      ]);
      res.json({ status: 'ready' });
    } catch (err) {
      res.status(503).json({
        error: 'redis unreachable',
        code: 'NotReady',
        detail: { reason: err instanceof Error ? err.message : String(err) },
      });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  const doc = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });

  app.use('/v1', auth(ctx), dataRoutes(ctx), modelRoutes(ctx), statusRoutes(ctx));

  app.use((req, _res, next) => {
    next(new HttpError(404, 'NotFound', `no route for ${req.method} ${req.path}`, { path: req.path }));
  });
  // Four arguments mark this as express's error handler.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const h = toHttpError(err);
    if (h === null) ctx.log.error({ err, url: req.originalUrl }, 'Failed to handle request');
    const e = h ?? new HttpError(500, 'Internal', 'internal error');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (!req.complete && e.status >= 400) lingerThenClose(req, res);
    res.status(e.status).json(e.toBody());
  });
  return app;
}
