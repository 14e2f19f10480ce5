// The quick runner's pure parts: which QueryJob is ready to run here and the query-runner spec it becomes.
import { describe, expect, it } from 'vitest';
import type { KubeClient } from './kube.js';
import { quantityBytes, quickSpec, statusResults, type QuickJobObject } from './quick.js';

const cfg = {
  client: {} as KubeClient,
  namespace: 'tap-des',
  catalog: { name: 'desdr', release: 'Y6A2' },
  dir: '/results',
  db: { host: 'db', port: 5432, database: 'des', user: 'reader', passwordFile: '/s/password' },
};

function job(over: { spec?: Partial<QuickJobObject['spec']>; status?: QuickJobObject['status'] } = {}) {
  const q: QuickJobObject = {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'QueryJob',
    metadata: { name: 'cone', uid: 'u-1', generation: 2, resourceVersion: '7' },
    spec: {
      owner: 'alice',
      catalogRef: { name: 'desdr' },
      query: 'SELECT ra FROM des_sample',
      mode: 'quick',
      phase: 'RUN',
      output: { format: 'votable', compression: 'none', splitMaxBytes: '1Mi' },
      ...over.spec,
    },
    status: over.status ?? {
      phase: 'QUEUED',
      sql: 'SELECT ra FROM des_sample',
      maxRecords: 1000,
      executionDuration: 30,
      conditions: [{ type: 'Validated', status: 'True', observedGeneration: 2 }],
    },
  };
  return q;
}

describe('quickSpec', () => {
  it('runs the validated SQL with LIMIT maxRecords + 1, the limits in force and the runner backend name', () => {
    expect(quickSpec(job(), '/results/cone-u-1', cfg)).toEqual({
      query: 'SELECT * FROM (SELECT ra FROM des_sample\n) AS tap_sync LIMIT 1001',
      catalog: { name: 'desdr', release: 'Y6A2' },
      connection: { ...cfg.db, applicationName: 'skyport-qj-u-1' },
      output: {
        dir: '/results/cone-u-1',
        stem: 'result',
        format: 'votable',
        compression: 'none',
        splitMaxBytes: 1_048_576,
      },
      maxRecords: 1000,
      executionDurationSeconds: 30,
    });
  });

  it('leaves jobs that are not ready: async, not RUN, not QUEUED, validated for an older generation', () => {
    const st = job().status ?? {};
    expect(quickSpec(job({ spec: { mode: 'async' } }), '/d', cfg)).toBeUndefined();
    expect(quickSpec(job({ spec: { phase: 'ABORT' } }), '/d', cfg)).toBeUndefined();
    expect(quickSpec(job({ spec: { validateOnly: true } }), '/d', cfg)).toBeUndefined();
    expect(quickSpec(job({ status: { ...st, phase: 'EXECUTING' } }), '/d', cfg)).toBeUndefined();
    expect(quickSpec(job({ status: { ...st, phase: 'PENDING' } }), '/d', cfg)).toBeUndefined();
    expect(
      quickSpec(
        job({
          status: { ...st, conditions: [{ type: 'Validated', status: 'True', observedGeneration: 1 }] },
        }),
        '/d',
        cfg,
      ),
    ).toBeUndefined();
    const { sql: _s, ...noSql } = st;
    expect(quickSpec(job({ status: noSql }), '/d', cfg)).toBeUndefined();
  });
});

describe('quantityBytes and statusResults', () => {
  it('reads byte quantities and refuses others', () => {
    expect(quantityBytes('5G')).toBe(5e9);
    expect(quantityBytes('1.5Ki')).toBe(1536);
    expect(quantityBytes(42)).toBe(42);
    expect(quantityBytes('12')).toBe(12);
    expect(quantityBytes('3m')).toBeUndefined();
  });

  it('lists files as the operator copies a runner termination message', () => {
    const sha = 'a'.repeat(64);
    expect(
      statusResults([
        { name: 'result.vot', mediaType: 'application/x-votable+xml', rows: 3, bytes: 10, sha256: sha },
      ]),
    ).toEqual([{ name: 'result.vot', format: 'application/x-votable+xml', rows: 3, bytes: 10, sha256: sha }]);
  });
});
