// Reads the pool status the anomaly API publishes (GET /v1/status, services/anomaly/src/api/routes-status.ts) with a
// bearer token: the operator's only view of the queue (it never speaks Redis). Injectable, so tests serve it.
import { errorMessage } from '../../errors.js';

/** The fields of `GET /v1/status` the operator uses. */
export interface PoolStatus {
  readonly queueDepth: number;
  readonly tasksRunning: number;
  readonly jobsRunning: number;
  readonly workers: number;
  readonly modelsStored: number;
}

/** Reads the pool status at `url` with `token`; rejects with a {@link PoolStatusError} saying what went wrong. */
export type PoolStatusFetcher = (url: string, token: string) => Promise<PoolStatus>;

/** The status could not be read or was not what the service publishes. */
export class PoolStatusError extends Error {
  override readonly name = 'PoolStatusError';
}

const FIELDS = ['queueDepth', 'tasksRunning', 'jobsRunning', 'workers', 'modelsStored'] as const;

/** Checks a `/v1/status` body: each field a non-negative integer, named when it is not. */
export function parsePoolStatus(body: unknown): PoolStatus {
  if (body === null || typeof body !== 'object') throw new PoolStatusError('body is not a JSON object');
  const o = body as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const f of FIELDS) {
    const v = o[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new PoolStatusError(`${f} must be an integer ≥ 0, got ${JSON.stringify(v)}`);
    }
    out[f] = v;
  }
  return out as unknown as PoolStatus;
}

/** The real fetcher: HTTP GET with `Authorization: Bearer`, a timeout, the body checked. */
export function httpPoolStatusFetcher(timeoutMs = 5000): PoolStatusFetcher {
  return async (url, token) => {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new PoolStatusError(`GET ${url}: ${errorMessage(err)}`);
    }
    if (!res.ok) {
      // The start of the body says who answered and why (the API's JSON error, or another server's page).
      const text = await res.text().catch(() => '');
      const said = text.trim().replace(/\s+/g, ' ').slice(0, 200);
      throw new PoolStatusError(`GET ${url}: HTTP ${res.status}${said === '' ? '' : `: ${said}`}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new PoolStatusError(`GET ${url}: ${errorMessage(err)}`);
    }
    return parsePoolStatus(body);
  };
}

/** The first token of a `tenant=token[,tenant=token…]` value (the service's TOKENS); undefined when none. */
export function firstToken(tokens: string): string | undefined {
  const first = tokens.split(',')[0]?.trim() ?? '';
  const i = first.indexOf('=');
  const token = i < 0 ? '' : first.slice(i + 1).trim();
  return token === '' ? undefined : token;
}
