// HTTP plumbing shared by the routes: the request's user, errors as HTTP statuses, and URLs as the client
// reached the service.

import { FormatError } from '@skyport/query-runner/dist/src/formats/index.js';
import { classify } from '@skyport/query-runner/dist/src/errors.js';
import { QuoteError } from '@skyport/query-runner/dist/src/quote.js';
import { QueryError } from '@skyport/query-runner/dist/src/reader.js';
import { QueryValidationError } from '@skyport/query-runner/dist/src/validate.js';
import type { NextFunction, Request, Response } from 'express';
import { JobStateError } from './jobs.js';
import { ParamError } from './params.js';
import type { Users } from '@skyport/service-kit/users';

/** An error with its HTTP status. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The status a thrown error answers with: the client's fault 4xx, the database away 503, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof ParamError || err instanceof QueryValidationError || err instanceof FormatError)
    return 400;
  if (err instanceof QuoteError) return 400;
  if (err instanceof JobStateError) return 409;
  const e = err as { status?: unknown };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return e.status;
  if (err instanceof QueryError) {
    const c = classify(err);
    if (c.type === 'transient') return 503;
    // Class 42 (syntax, undefined table/column, permission), 22 (data), 57014 (statement_timeout).
    return /^(42|22|57014|25006)/.test(err.code) ? 400 : 500;
  }
  return 500;
}

/** The message shown to the client: the SQLSTATE kept for database errors, internals not exposed. */
export function messageOf(err: unknown): string {
  const status = statusOf(err);
  if (err instanceof QueryError) return `${err.message} (SQLSTATE ${err.code})`;
  if (status >= 500 && !(err instanceof HttpError)) return 'internal error';
  return err instanceof Error ? err.message : String(err);
}

/** Requires `Authorization: Bearer <token>` of a known user; sets res.locals.user. */
export function requireUser(users: Users) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const user = users.fromHeader(req.headers.authorization);
    if (user === undefined) {
      res.set('WWW-Authenticate', 'Bearer realm="tap"');
      next(
        new HttpError(
          401,
          req.headers.authorization === undefined ? 'a bearer token is required' : 'unknown bearer token',
        ),
      );
      return;
    }
    res.locals['user'] = user;
    next();
  };
}

export function userOf(res: Response): string {
  const u: unknown = res.locals['user'];
  if (typeof u !== 'string') throw new HttpError(401, 'a bearer token is required');
  return u;
}

/** The TAP base URL as this request reached it (scheme and Host header), e.g. http://h:8080/tap. */
export function baseUrl(req: Request, basePath: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${basePath}`;
}
