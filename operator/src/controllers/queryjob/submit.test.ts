// Submit-time checks that need no database: limits against the catalog and the query's validation.
import { describe, expect, it } from 'vitest';
import { checkedSql, resolveLimits, SubmitError } from './submit.js';
import { catalogFixture, queryJobFixture } from './fixtures.test-util.js';

async function refusal(query: string, language: 'SQL' | 'ADQL' = 'SQL'): Promise<SubmitError> {
  const err = await checkedSql(queryJobFixture({ query, language })).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SubmitError)) throw new Error(`not refused: ${query}`);
  return err;
}

describe('resolveLimits', () => {
  it("takes the catalog's default duration and caps maxRecords", () => {
    const cat = catalogFixture({ limits: { defaultExecutionDuration: '5m', maxRecords: 1000 } });
    expect(resolveLimits(queryJobFixture(), cat)).toEqual({
      executionDurationSeconds: 300,
      maxRecords: 1000,
    });
    expect(resolveLimits(queryJobFixture({ maxRecords: 10 }), cat).maxRecords).toBe(10);
    expect(resolveLimits(queryJobFixture({ maxRecords: 5000 }), cat).maxRecords).toBe(1000);
  });

  it('refuses an executionDuration over the catalog maximum, naming field and limit', () => {
    const cat = catalogFixture({ limits: { maxExecutionDuration: '1h' } });
    expect(() => resolveLimits(queryJobFixture({ executionDuration: '2h' }), cat)).toThrow(
      /spec\.executionDuration: 2h is over catalog desdr's maxExecutionDuration of 1h/,
    );
    expect(resolveLimits(queryJobFixture({ executionDuration: '90s' }), cat).executionDurationSeconds).toBe(
      90,
    );
  });
});

describe('resolveLimits of a quick job', () => {
  const tap = { namespace: 'user-jsmith', secretName: 'tap' };
  const quick = (spec: Parameters<typeof queryJobFixture>[0] = {}) =>
    queryJobFixture({ mode: 'quick', ...spec });
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      if (err instanceof SubmitError) return `${err.code}: ${err.message}`;
      throw err;
    }
    return 'accepted';
  };

  it("takes spec.tap.quick's maxRecords and duration when the job sets none, within the catalog's", () => {
    const cat = catalogFixture({
      limits: { defaultExecutionDuration: '10m', maxRecords: 50_000 },
      tap: { ...tap, quick: { maxRecords: 20_000, maxExecutionDuration: '30s' } },
    });
    expect(resolveLimits(quick(), cat)).toEqual({ executionDurationSeconds: 30, maxRecords: 20_000 });
    expect(resolveLimits(quick({ maxRecords: 5, executionDuration: '2s' }), cat)).toEqual({
      executionDurationSeconds: 2,
      maxRecords: 5,
    });
    // Defaults: 100,000 rows and 1m, capped by the catalog's own maxRecords.
    const small = catalogFixture({ limits: { maxRecords: 1000 }, tap });
    expect(resolveLimits(quick(), small)).toEqual({ executionDurationSeconds: 60, maxRecords: 1000 });
  });

  it('refuses a quick job too big for the quick limits, naming the field and the limit', () => {
    const cat = catalogFixture({ tap: { ...tap, quick: { maxRecords: 1000, maxExecutionDuration: '10s' } } });
    expect(code(() => resolveLimits(quick({ maxRecords: 1001 }), cat))).toBe(
      "QuickJobTooBig: spec.maxRecords: 1001 is over catalog desdr's quick maxRecords of 1000 (spec.tap.quick): " +
        'run it with mode async',
    );
    expect(code(() => resolveLimits(quick({ executionDuration: '11s' }), cat))).toMatch(
      /^QuickJobTooBig: spec\.executionDuration: 11s is over .* quick maxExecutionDuration of 10s/,
    );
    // The same job async is not limited by spec.tap.quick.
    expect(code(() => resolveLimits(queryJobFixture({ maxRecords: 1001 }), cat))).toBe('accepted');
  });

  it('refuses a quick job of a catalog whose results go to a bucket', () => {
    const cat = catalogFixture({
      tap,
      results: {
        s3: {
          endpoint: 'https://s3.example.org',
          bucket: 'des-results',
          credentialsSecretRef: { name: 'k' },
        },
      },
    });
    expect(code(() => resolveLimits(quick(), cat))).toMatch(
      /^QuickNeedsResultsClaim: spec\.mode: catalog desdr keeps results in a bucket/,
    );
    expect(code(() => resolveLimits(queryJobFixture(), cat))).toBe('accepted');
  });

  it('refuses a quick job without a TAP service, or outside its namespace', () => {
    expect(code(() => resolveLimits(quick(), catalogFixture()))).toMatch(
      /^QuickNeedsTap: spec\.mode: .*catalog desdr has none \(spec\.tap unset\)/,
    );
    expect(code(() => resolveLimits(quick(), catalogFixture({ tap: { ...tap, enabled: false } })))).toMatch(
      /^QuickNeedsTap: .*\(spec\.tap disabled\)/,
    );
    expect(code(() => resolveLimits(quick(), catalogFixture({ tap: { ...tap, namespace: 'tap-ns' } })))).toBe(
      "QuickOutsideTapNamespace: spec.mode: quick jobs of catalog desdr run in its TAP service's namespace " +
        'tap-ns, not user-jsmith: use mode async',
    );
  });
});

describe('checkedSql', () => {
  it('passes one SELECT through unchanged and translates ADQL', async () => {
    const q = 'SELECT ra, dec FROM des_sample WHERE dec > 0';
    expect(await checkedSql(queryJobFixture({ query: q }))).toBe(q);
    expect(
      await checkedSql(queryJobFixture({ query: 'SELECT TOP 5 ra FROM des_sample', language: 'ADQL' })),
    ).toMatch(/LIMIT 5/);
  });

  it('refuses DDL, DML, two statements and pg_sleep with the validator codes', async () => {
    expect((await refusal('DROP TABLE des_sample')).code).toBe('QueryNotSelectOnly');
    expect((await refusal('INSERT INTO des_sample (ra) VALUES (1)')).code).toBe('QueryNotSelectOnly');
    expect((await refusal('SELECT 1; SELECT 2')).code).toBe('QueryNotSingleStatement');
    const sleep = await refusal('SELECT pg_sleep(3600)');
    expect(sleep.code).toBe('QueryFunctionDenied');
    expect(sleep.toStatus()).toMatchObject({ type: 'fatal', code: 'QueryFunctionDenied' });
    expect(sleep.message).toMatch(/^spec\.query: .*pg_sleep/);
    expect((await refusal('SELECT POLYGON(1) FROM t', 'ADQL')).code).toBe('AdqlUnsupported');
  });
});
