import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const REQUIRED = { TAP_TOKENS_FILE: 't', TAP_SIGNING_KEY_FILE: 'k', TAP_RESULTS_DIR: 'r' };

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig(REQUIRED);
    expect(c).toMatchObject({
      port: 8080,
      basePath: '/tap',
      schemas: ['public'],
      maxrecDefault: 100_000,
      maxrecHard: 1_000_000,
      executionDurationDefault: 600,
      executionDurationHard: 3600,
      destructionDefaultSeconds: 604_800,
      resultUrlSeconds: 900,
      maxConcurrentJobsPerUser: 2,
      db: {},
      jobStore: 'memory',
    });
    expect(c.namespace).toBeUndefined();
  });

  it('switches to the kubernetes job store', () => {
    const c = loadConfig({ ...REQUIRED, TAP_JOB_STORE: 'kubernetes', TAP_NAMESPACE: 'tap-des' });
    expect([c.jobStore, c.namespace]).toEqual(['kubernetes', 'tap-des']);
    expect(() => loadConfig({ ...REQUIRED, TAP_JOB_STORE: 'etcd' })).toThrow(
      /^TAP_JOB_STORE: expected memory/,
    );
    expect(() => loadConfig({ ...REQUIRED, TAP_NAMESPACE: 'Tap_Des' })).toThrow(/^TAP_NAMESPACE: /);
  });

  it('takes the results bucket (kubernetes store only), needing no results directory', () => {
    const S3 = {
      TAP_TOKENS_FILE: 't',
      TAP_SIGNING_KEY_FILE: 'k',
      TAP_JOB_STORE: 'kubernetes',
      TAP_RESULTS_S3_ENDPOINT: 'http://127.0.0.1:7070/',
      TAP_RESULTS_S3_BUCKET: 'des-results',
    };
    expect(loadConfig(S3).resultsS3).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      bucket: 'des-results',
      region: 'us-east-1',
      forcePathStyle: false,
      prefix: '',
    });
    expect(loadConfig(REQUIRED).resultsS3).toBeUndefined();
    expect(() => loadConfig({ ...S3, TAP_JOB_STORE: 'memory' })).toThrow(
      /^TAP_RESULTS_S3_BUCKET: .*kubernetes/,
    );
    expect(() => loadConfig({ ...S3, TAP_RESULTS_S3_ENDPOINT: 'http://h/p' })).toThrow(
      /^TAP_RESULTS_S3_ENDPOINT: /,
    );
    expect(() => loadConfig({ ...S3, TAP_RESULTS_S3_FORCE_PATH_STYLE: 'yes' })).toThrow(
      /^TAP_RESULTS_S3_FORCE_PATH_STYLE: /,
    );
    expect(() => loadConfig({ ...S3, TAP_RESULTS_S3_PREFIX: 'r/' })).toThrow(/^TAP_RESULTS_S3_PREFIX: /);
    const { TAP_RESULTS_S3_ENDPOINT: _e, ...noEndpoint } = S3;
    expect(() => loadConfig(noEndpoint)).toThrow(/^TAP_RESULTS_S3_ENDPOINT: is required/);
  });

  it('reads the database and limits', () => {
    const c = loadConfig({
      ...REQUIRED,
      PGHOST: 'db',
      PGPORT: '5433',
      PGUSER: 'reader',
      TAP_BASE_PATH: '/',
      TAP_MAXREC_HARD: '50',
    });
    expect(c.db).toEqual({ host: 'db', port: 5433, user: 'reader' });
    expect([c.basePath, c.maxrecHard, c.maxrecDefault]).toEqual(['', 50, 50]);
  });

  it('names the variable it refuses', () => {
    expect(() => loadConfig({})).toThrow(new ConfigError('TAP_TOKENS_FILE', 'is required'));
    expect(() => loadConfig({ ...REQUIRED, PORT: 'http' })).toThrow(/^PORT: expected an integer/);
    expect(() => loadConfig({ ...REQUIRED, TAP_SCHEMAS: 'public,Des' })).toThrow(/^TAP_SCHEMAS: 'Des'/);
    expect(() => loadConfig({ ...REQUIRED, TAP_MAXREC_HARD: '10', TAP_MAXREC_DEFAULT: '20' })).toThrow(
      /^TAP_MAXREC_DEFAULT: must be in \[0, 10\]/,
    );
    expect(() => loadConfig({ ...REQUIRED, TAP_BASE_PATH: 'tap' })).toThrow(/^TAP_BASE_PATH/);
  });
});
