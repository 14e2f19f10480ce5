import { describe, expect, it } from 'vitest';
import { CREATED_ANNOTATION, toJob, type QueryJobObject } from './kubernetes.js';

const base = (over: Partial<QueryJobObject> = {}): QueryJobObject => ({
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'QueryJob',
  metadata: {
    name: 'tap-0123456789abcdef',
    uid: 'u-1',
    creationTimestamp: '2026-12-03T10:00:00Z',
    annotations: { [CREATED_ANNOTATION]: '2026-12-03T10:00:00.250Z' },
  },
  spec: {
    owner: 'alice',
    catalogRef: { name: 'des' },
    language: 'SQL',
    query: 'SELECT 1',
    phase: 'PENDING',
    maxRecords: 100,
    output: { format: 'parquet' },
    executionDuration: '1h30m',
    destruction: '2026-12-10T10:00:00Z',
  },
  ...over,
});

describe('toJob', () => {
  it('maps a fresh QueryJob: PENDING, ms creation time, executionDuration in seconds, PG-SQL', () => {
    const j = toJob(base());
    expect(j).toMatchObject({
      id: 'tap-0123456789abcdef',
      owner: 'alice',
      phase: 'PENDING',
      executionDuration: 5400,
      parameters: { lang: 'PG-SQL', query: 'SELECT 1', format: 'parquet', maxrec: 100 },
      results: [],
      resultDir: 'tap-0123456789abcdef-u-1',
    });
    expect(j.creationTime.toISOString()).toBe('2026-12-03T10:00:00.250Z');
    expect(j.destruction.toISOString()).toBe('2026-12-10T10:00:00.000Z');
    expect(j.quote).toBeUndefined();
  });

  it('shows a RUN the operator has not acted on as QUEUED, and the status phase once it has', () => {
    const run = base();
    run.spec.phase = 'RUN';
    expect(toJob(run).phase).toBe('QUEUED');
    expect(toJob({ ...run, status: { phase: 'PENDING' } }).phase).toBe('QUEUED');
    expect(toJob({ ...run, status: { phase: 'EXECUTING' } }).phase).toBe('EXECUTING');
    expect(toJob({ ...base(), status: { phase: 'ERROR' } }).phase).toBe('ERROR');
  });

  it('numbers data files result, result-2, … and names the manifest provenance, wherever it is listed', () => {
    const sha = 'a'.repeat(64);
    const j = toJob({
      ...base(),
      status: {
        phase: 'COMPLETED',
        quote: { estimatedRows: 1_000_000, estimatedBytes: 1, cost: 1 },
        maxRecords: 40_000,
        results: [
          { name: 'result.provenance.json', format: 'application/json', bytes: 9, sha256: sha },
          { name: 'result.part-1.csv', format: 'text/csv', rows: 3, bytes: 30, sha256: sha },
          { name: 'result.part-2.csv', format: 'text/csv', rows: 2, bytes: 20, sha256: sha },
        ],
      },
    });
    expect(j.results.map((r) => [r.id, r.file])).toEqual([
      ['result', 'result.part-1.csv'],
      ['result-2', 'result.part-2.csv'],
      ['provenance', 'result.provenance.json'],
    ]);
    // Quote: creation + min(estimate, maxRecords asked: 100) / 20,000 rows/s.
    expect(j.quote?.toISOString()).toBe('2026-12-03T10:00:00.255Z');
  });
});
