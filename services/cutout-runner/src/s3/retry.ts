// Bounded retries of S3 calls: a transient error (5xx, throttling, a network failure — S3Error.transient) or a
// download that did not verify is tried again a few times with doubling pauses; anything else fails at once.

import type { S3Error } from '@skyport/s3';

/** How often and how patiently to retry. */
export interface RetryOptions {
  /** Tries in all (default 4: the first and three retries). */
  readonly attempts?: number;
  /** Pause before the first retry, doubled after each (default 250 ms). */
  readonly baseDelayMs?: number;
  /** The pause (tests pass one that does not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry (for counting). */
  readonly onRetry?: (err: unknown, attempt: number) => void;
}

/** An error a retry may cure: S3's transient ones, and a body that did not match its size or ETag. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
}

/**
 * An S3Error by its name, not `instanceof`: a client built from another copy of @skyport/s3 (its sources in a
 * test, its build here) throws the same error of another class object.
 */
export function s3ErrorOf(err: unknown): S3Error | undefined {
  return err instanceof Error && err.name === 'S3Error' ? (err as S3Error) : undefined;
}

export function isRetryable(err: unknown): boolean {
  return s3ErrorOf(err)?.transient === true || err instanceof RetryableError;
}

const realSleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Runs `fn` until it succeeds, fails with an error no retry cures, or has been tried `attempts` times. */
export async function withRetries<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 4;
  const sleep = o.sleep ?? realSleep;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isRetryable(err)) throw err;
      o.onRetry?.(err, i);
      await sleep((o.baseDelayMs ?? 250) * 2 ** (i - 1));
    }
  }
}
