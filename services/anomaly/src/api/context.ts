// What every route handler needs, built once per API process; plus small express helpers shared by routes.

import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ApiConfig } from '../config.js';
import type { Coordinator } from '../pool/coordinator.js';
import type { Store } from '../store/store.js';
import type { AlertBus } from './alerts.js';
import type { ApiMetrics } from './metrics.js';
import type { ModelCache } from './model-cache.js';

/** Shared services of the API process. */
export interface ApiContext {
  readonly cfg: ApiConfig;
  readonly store: Store;
  readonly coordinator: Coordinator;
  readonly alerts: AlertBus;
  readonly models: ModelCache;
  readonly metrics: ApiMetrics;
  readonly log: Logger;
}

/** The tenant the auth middleware resolved for this request. */
export function tenantOf(res: Response): string {
  const t: unknown = res.locals['tenant'];
  if (typeof t !== 'string') throw new Error('route reached without authentication');
  return t;
}

/** A path parameter as a string (express 5 types them loosely). */
export function param(req: Request, name: string): string {
  const v: unknown = (req.params as Record<string, unknown>)[name];
  // Ids become part of Redis key names: anything but [A-Za-z0-9_-] could reach a sibling key (":meta").
  return typeof v === 'string' && ID.test(v) ? v : '-';
}

/** Shape of every id the API hands out (UUIDs, sha256 hex). */
export const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Wraps an async handler; express 5 forwards rejections to the error handler itself. */
export type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
