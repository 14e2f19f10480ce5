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
