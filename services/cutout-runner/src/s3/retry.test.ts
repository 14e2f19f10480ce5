// withRetries on a fake sleep: a transient S3 error or a failed check is retried with doubling pauses up to the
// limit; an error no retry cures (a 404, a 403, anything else) fails at once.
import { S3Error } from '@skyport/s3';
import { describe, expect, it } from 'vitest';
import { RetryableError, withRetries } from './retry.js';

function failing(errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    calls: () => n,
    fn: () => {
      const e = errors[n++];
      return e === undefined
        ? Promise.resolve('ok')
        : Promise.reject(e instanceof Error ? e : new Error(String(e)));
    },
  };
}

describe('withRetries', () => {
  it('retries transient errors with doubling pauses, then succeeds', async () => {
    const pauses: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      pauses.push(ms);
      return Promise.resolve();
    };
    const f = failing([
      new S3Error(503, 'SlowDown', 'slow'),
      new S3Error(0, 'NetworkError', 'reset'),
      new RetryableError('md5'),
    ]);
    await expect(withRetries(f.fn, { sleep, baseDelayMs: 100 })).resolves.toBe('ok');
    expect(f.calls()).toBe(4);
    expect(pauses).toEqual([100, 200, 400]);
  });

  it('gives up after the attempts allowed, with the last error', async () => {
    const f = failing(
      Array.from({ length: 10 }, (_, i) => new S3Error(500, 'InternalError', `try ${i + 1}`)),
    );
    await expect(withRetries(f.fn, { sleep: () => Promise.resolve() })).rejects.toThrow('try 4');
    expect(f.calls()).toBe(4);
    const g = failing(Array.from({ length: 10 }, () => new S3Error(429, 'TooManyRequests', 'x')));
    await expect(withRetries(g.fn, { sleep: () => Promise.resolve(), attempts: 2 })).rejects.toThrow('x');
    expect(g.calls()).toBe(2);
  });

  it('does not retry what a retry cannot cure', async () => {
    for (const e of [
      new S3Error(404, 'NoSuchKey', 'gone'),
      new S3Error(403, 'AccessDenied', 'no'),
      new TypeError('bug'),
    ]) {
      const f = failing([e]);
      await expect(withRetries(f.fn, { sleep: () => Promise.resolve() })).rejects.toBe(e);
      expect(f.calls()).toBe(1);
    }
  });
});
