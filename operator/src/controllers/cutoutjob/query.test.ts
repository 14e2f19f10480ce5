// A CutoutJob fed by a QueryJob: waits while the QueryJob is missing or running (or its Catalog is gone), ends
// ERROR naming the QueryJob's phase or a result format the planner cannot read, else plans from its data files;
// and the plan Job's reports as the operator reads them.
import { describe, expect, it } from 'vitest';
import type { QueryJob } from '../../api/v1alpha1/index.js';
import { TerminalError } from '../../errors.js';
import { catalogFixture, queryJobFixture } from '../queryjob/fixtures.test-util.js';
import { cutout } from './fixtures.test-util.js';
import { queryResult } from './query.js';
import { parsePlanError, parsePlanReport } from './status.js';

const job = cutout({
  positions: {
    fromQueryJob: { name: 'gold-sample', raColumn: 'RA', decColumn: 'DEC', idColumn: 'coadd_object_id' },
  },
});
const SHA = 'a'.repeat(64);

function qj(status: NonNullable<QueryJob['status']>): QueryJob {
  return { ...queryJobFixture(), status };
}

function terminal(fn: () => unknown): TerminalError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TerminalError) return e;
    throw e;
  }
  throw new Error('no TerminalError');
}

describe('queryResult', () => {
  it('waits for the QueryJob to exist and to complete, and for its Catalog', () => {
    expect(queryResult(job, undefined, catalogFixture())).toEqual({
      reason: 'QueryJobNotFound',
      message: 'waiting for QueryJob gold-sample to exist',
    });
    for (const phase of [undefined, 'PENDING', 'QUEUED', 'EXECUTING'] as const)
      expect(queryResult(job, qj(phase === undefined ? {} : { phase }), catalogFixture())).toEqual({
        reason: 'QueryJobNotFinished',
        message: `waiting for QueryJob gold-sample to complete (${phase ?? 'not started'})`,
      });
    expect(queryResult(job, qj({ phase: 'COMPLETED' }), undefined)).toMatchObject({
      reason: 'CatalogNotFound',
    });
  });

  it('ends ERROR when the QueryJob ended without a result, naming its phase and error', () => {
    const e = terminal(() =>
      queryResult(
        job,
        qj({ phase: 'ERROR', error: { type: 'fatal', code: 'QuoteOverLimit', message: 'too many rows' } }),
        catalogFixture(),
      ),
    );
    expect([e.code, e.message]).toEqual([
      'QueryJobNotAvailable',
      'spec.positions.fromQueryJob: QueryJob gold-sample is ERROR: QuoteOverLimit: too many rows',
    ]);
    expect(terminal(() => queryResult(job, qj({ phase: 'ABORTED' }), catalogFixture())).message).toBe(
      'spec.positions.fromQueryJob: QueryJob gold-sample is ABORTED',
    );
    expect(terminal(() => queryResult(job, qj({ phase: 'ARCHIVED' }), catalogFixture())).message).toBe(
      'spec.positions.fromQueryJob: QueryJob gold-sample is ARCHIVED (its results were deleted)',
    );
    const provenanceOnly = qj({
      phase: 'COMPLETED',
      results: [{ name: 'result.provenance.json', format: 'application/json', bytes: 10, sha256: SHA }],
    });
    expect(terminal(() => queryResult(job, provenanceOnly, catalogFixture())).message).toBe(
      'spec.positions.fromQueryJob: QueryJob gold-sample lists no result file',
    );
  });

  it('refuses a result format the planner cannot read before any Job, naming it', () => {
    const fits = qj({
      phase: 'COMPLETED',
      results: [
        {
          name: 'result.vot',
          format: 'application/x-votable+xml;serialization=TABLEDATA',
          rows: 3,
          bytes: 5760,
          sha256: SHA,
        },
        { name: 'result.provenance.json', format: 'application/json', bytes: 10, sha256: SHA },
      ],
    });
    const e = terminal(() => queryResult(job, fits, catalogFixture()));
    expect(e.code).toBe('UnsupportedResultFormat');
    expect(e.message).toBe(
      "spec.positions.fromQueryJob: QueryJob gold-sample's result result.vot is " +
        'application/x-votable+xml;serialization=TABLEDATA; positions are read from csv, tsv or fits (gzipped or ' +
        'not) results: run the query with spec.output.format csv or fits',
    );
  });

  it("gives the Catalog's claim, the QueryJob's directory and its data files in order", () => {
    const done = qj({
      phase: 'COMPLETED',
      rows: 12,
      results: [
        {
          name: 'result_000001.csv.gz',
          format: 'text/csv; header=present',
          rows: 10,
          bytes: 100,
          sha256: SHA,
        },
        { name: 'result_000002.csv.gz', format: 'text/csv; header=present', rows: 2, bytes: 30, sha256: SHA },
        { name: 'result.provenance.json', format: 'application/json', rows: 0, bytes: 10, sha256: SHA },
      ],
    });
    expect(queryResult(job, done, catalogFixture())).toEqual({
      claimName: 'query-results',
      dir: 'gold-sample-0f3c1a2b-1111-2222-3333-444455556666',
      files: ['result_000001.csv.gz', 'result_000002.csv.gz'],
      rows: 12,
    });
  });

  it('ends ERROR when the Catalog keeps results in a bucket (not read by the planner yet)', () => {
    const done = qj({
      phase: 'COMPLETED',
      results: [{ name: 'result.csv', format: 'text/csv; header=present', rows: 1, bytes: 9, sha256: SHA }],
    });
    const s3 = catalogFixture({
      results: {
        s3: {
          endpoint: 'https://s3.example.org',
          bucket: 'des-results',
          credentialsSecretRef: { name: 's3' },
        },
      },
    });
    const e = terminal(() => queryResult(job, done, s3));
    expect(e.code).toBe('UnsupportedResultStorage');
    expect(e.message).toContain('Catalog desdr spec.results.s3');
  });
});

describe('plan reports', () => {
  it('reads the counts of a plan report and refuses anything else', () => {
    expect(parsePlanReport('{"v":1,"positions":5,"shardSizes":[2,1],"failed":1,"unmatched":1}')).toEqual({
      positions: 5,
      shardSizes: [2, 1],
      failed: 1,
      unmatched: 1,
    });
    for (const bad of [
      '',
      'not json',
      '{"positions":5}',
      '{"v":1,"positions":5,"shardSizes":[1.5],"failed":0,"unmatched":0}',
    ])
      expect(parsePlanReport(bad)).toBeUndefined();
  });

  it('reads an error report', () => {
    expect(
      parsePlanError('{"error":{"code":"BadPositions","field":"raColumn","message":"raColumn: x"}}'),
    ).toEqual({
      code: 'BadPositions',
      message: 'raColumn: x',
    });
    expect(parsePlanError('{"v":1}')).toBeUndefined();
  });
});
