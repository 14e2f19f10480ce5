// The two kinds of reconcile failure (CONTRIBUTING.md §6): transient (retry with backoff) and terminal (record, stop).

/** Options shared by both error kinds. */
export interface SkyportErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Extra structured detail (field path, HTTP status, …) for logs and status messages. */
  detail?: Record<string, unknown>;
}

/**
 * A failure that may succeed on retry (conflict, throttling, apiserver unavailable, a child not ready yet).
 * The work queue retries the key with per-key exponential backoff.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  /** Stable CamelCase code, e.g. `Conflict` or `ApiUnavailable`. */
  readonly code: string;
  /** When set, retry after this many milliseconds instead of the backoff delay. */
  readonly retryAfterMs: number | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: SkyportErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
  }
}

/**
 * A failure that retrying cannot fix (invalid spec, forbidden image, a query that is not SELECT-only).
 * The controller's `onTerminal` hook records it (a `Degraded` condition with `reason = code`) and the key is
 * not retried until the resource's `metadata.generation` changes.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** Stable CamelCase code used as the condition reason, e.g. `ImagePullFailed`. */
  readonly code: string;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: SkyportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
  }
}

/** A short, log-safe message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
