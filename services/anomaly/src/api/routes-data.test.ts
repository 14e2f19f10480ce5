// Unit tests for the job-list filters of GET /v1/jobs: phases, kind and last, and the 400 each bad value gets.
import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { jobListQuery } from './routes-data.js';

function error(q: Record<string, unknown>): string {
  try {
    jobListQuery(q);
    return 'ok';
  } catch (err) {
    return err instanceof HttpError ? `${err.status} ${err.code} ${err.message}` : String(err);
  }
}

describe('jobListQuery', () => {
  it('defaults to the 100 newest of any phase and kind', () => {
    expect(jobListQuery({})).toEqual({ last: 100 });
  });

  it('takes phases repeated or comma-separated, in any case, a kind and a count', () => {
    const q = jobListQuery({ phase: ['completed', 'ERROR,aborted'], kind: 'score', last: '5' });
    expect([...(q.phases ?? [])].sort()).toEqual(['ABORTED', 'COMPLETED', 'ERROR']);
    expect(q).toMatchObject({ kind: 'score', last: 5 });
  });

  it('names the parameter and the accepted values of a bad one', () => {
    expect(error({ phase: 'DONE' })).toBe(
      '400 InvalidRequest phase: "DONE" is not one of PENDING, QUEUED, EXECUTING, COMPLETED, ERROR, ABORTED',
    );
    expect(error({ kind: 'train' })).toBe('400 InvalidRequest kind: must be fit or score');
    expect(error({ last: '0' })).toMatch(
      /^400 InvalidRequest last: must be an integer from 1 to 1000, got "0"/,
    );
    expect(error({ last: '1001' })).toMatch(/^400 InvalidRequest last:/);
    expect(error({ last: '2.5' })).toMatch(/^400 InvalidRequest last:/);
    expect(error({ last: ['1', '2'] })).toMatch(/^400 InvalidRequest last:/);
  });
});
