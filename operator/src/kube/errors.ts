// Maps apiserver and network failures onto TransientError / TerminalError with the apiserver's message.
import { TerminalError, TransientError } from '../errors.js';

/** The parts of a failed call that the mapping needs. */
export interface HttpFailure {
  status: number | undefined;
  /** The `V1Status.message` when the apiserver sent one, else the raw text. */
  message: string;
  /** The `V1Status.reason` (`Conflict`, `Invalid`, `NotFound`, …). */
  reason: string | undefined;
  /** Seconds from a `Retry-After` header or `details.retryAfterSeconds`. */
  retryAfterSeconds: number | undefined;
  /** Node network error code (`ECONNREFUSED`, `ECONNRESET`, …). */
  networkCode: string | undefined;
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
}

function retryAfter(
  details: Record<string, unknown> | undefined,
  headers: Record<string, string>,
): number | undefined {
  if (typeof details?.retryAfterSeconds === 'number') return details.retryAfterSeconds;
  const h = headers['retry-after'] ?? headers['Retry-After'];
  return h !== undefined && /^\d+$/.test(h) ? Number(h) : undefined;
}

/** Extracts status, apiserver message and network code from anything client-node or node-fetch throws. */
export function describeFailure(err: unknown): HttpFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const status =
    typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const body = parseBody(e.body);
  const details = (body?.details ?? undefined) as Record<string, unknown> | undefined;
  const headers = (e.headers ?? {}) as Record<string, string>;
  const retryAfterSeconds = retryAfter(details, headers);
  const cause = (e.cause ?? undefined) as Record<string, unknown> | undefined;
  const netCode =
    typeof e.code === 'string'
      ? e.code
      : typeof e.errno === 'string'
        ? e.errno
        : typeof cause?.code === 'string'
          ? cause.code
          : undefined;
  const message =
    typeof body?.message === 'string'
      ? body.message
      : typeof e.body === 'string' && e.body !== ''
        ? e.body
        : err instanceof Error
          ? (err.message.split('\n')[0] ?? err.message)
          : String(err);
  return {
    status,
    message,
    reason: typeof body?.reason === 'string' ? body.reason : undefined,
    retryAfterSeconds,
    networkCode:
      status === undefined ? (netCode ?? (err instanceof Error ? err.name : undefined)) : undefined,
  };
}

/** HTTP status of a client-node failure, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return describeFailure(err).status;
}

/** True when the failure is a 404 Not Found. */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** True when the failure is a 409 Conflict (stale resourceVersion or AlreadyExists). */
export function isConflict(err: unknown): boolean {
  return statusOf(err) === 409;
}

/**
 * Maps a failed Kubernetes call onto the reconcile error kinds:
 * - 409 Conflict, 429 Too Many Requests, 5xx, 401/403 (RBAC may be fixed by an admin) and network
 *   errors → {@link TransientError} (retry with backoff; `Retry-After` honoured);
 * - 400 Bad Request, 422 Invalid, 415 and other 4xx → {@link TerminalError} carrying the apiserver's message
 *   (retrying the same request cannot succeed).
 * Errors that are already Transient/Terminal pass through unchanged.
 *
 * @param what a short description for the message, e.g. `apply Pod ns/lab-notebook`
 */
export function mapKubeError(err: unknown, what: string): TransientError | TerminalError {
  if (err instanceof TransientError || err instanceof TerminalError) return err;
  const f = describeFailure(err);
  const detail: Record<string, unknown> = { status: f.status, reason: f.reason, operation: what };
  const msg = `${what}: ${f.message}`;
  if (f.status === undefined) {
    return new TransientError(
      'ApiUnreachable',
      `${what}: ${f.networkCode ?? 'network error'}: ${f.message}`,
      { cause: err, detail },
    );
  }
  const retryAfterMs = f.retryAfterSeconds === undefined ? undefined : f.retryAfterSeconds * 1000;
  const transient = (code: string): TransientError =>
    new TransientError(
      code,
      msg,
      retryAfterMs === undefined ? { cause: err, detail } : { cause: err, detail, retryAfterMs },
    );
  if (f.status === 409) return transient('Conflict');
  if (f.status === 429) return transient('TooManyRequests');
  if (f.status >= 500) return transient('ApiUnavailable');
  if (f.status === 401) return transient('Unauthorized');
  if (f.status === 403) return transient('Forbidden');
  if (f.status === 404) return transient('NotFound');
  if (f.status === 422) return new TerminalError('Invalid', msg, { cause: err, detail });
  if (f.status === 400) return new TerminalError('BadRequest', msg, { cause: err, detail });
  return new TerminalError(f.reason ?? `Http${f.status}`, msg, { cause: err, detail });
}
