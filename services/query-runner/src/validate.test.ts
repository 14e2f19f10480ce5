import { describe, expect, it } from 'vitest';
import { QueryValidationError, validateQuery } from './validate.js';

const ACCEPTED = [
  'SELECT 1',
  'select ra, dec from des.y6_gold where ra between 10 and 11 and dec between -50 and -49',
  "SELECT coadd_object_id FROM gold WHERE tilename = 'DES0001-4914' ORDER BY 1 LIMIT 10",
  'WITH c AS (SELECT ra, dec FROM gold WHERE mag_auto_i < 20) SELECT count(*) FROM c',
  'SELECT g.ra, n.x FROM gold g JOIN LATERAL (SELECT g.ra * 2 AS x) n ON true',
  'SELECT sqrt(power(ra - 10, 2) + power(dec + 50, 2)) AS d FROM gold',
  'SELECT * FROM generate_series(1, 10) AS s(i)',
  'VALUES (1, 2), (3, 4)',
  'SELECT ra FROM gold UNION ALL SELECT ra FROM silver',
  "SELECT 'pg_sleep(1); DROP TABLE gold' AS text_not_code",
  'SELECT 1; ',
  '-- a comment\nSELECT /* inline */ 1',
];

/** [query, code, construct, message part] */
const REFUSED: [string, string, string | undefined, string][] = [
  ['INSERT INTO gold VALUES (1)', 'QueryNotSelectOnly', 'INSERT', 'INSERT is not a SELECT'],
  ['UPDATE gold SET ra = 0', 'QueryNotSelectOnly', 'UPDATE', 'UPDATE is not a SELECT'],
  ['DELETE FROM gold', 'QueryNotSelectOnly', 'DELETE', 'DELETE'],
  ['DROP TABLE gold', 'QueryNotSelectOnly', 'DROP', 'DROP is not a SELECT'],
  ['CREATE TABLE t (a int)', 'QueryNotSelectOnly', 'CREATE', 'CREATE'],
  ['TRUNCATE gold', 'QueryNotSelectOnly', 'TRUNCATE', 'TRUNCATE'],
  ["COPY gold TO '/tmp/x'", 'QueryNotSelectOnly', 'COPY', 'COPY'],
  ['SET statement_timeout = 0', 'QueryNotSelectOnly', 'VARIABLE SET', 'VARIABLE SET'],
  ['EXPLAIN ANALYZE SELECT 1', 'QueryNotSelectOnly', 'EXPLAIN', 'EXPLAIN'],
  ['BEGIN', 'QueryNotSelectOnly', 'TRANSACTION', 'TRANSACTION'],
  ['GRANT SELECT ON gold TO public', 'QueryNotSelectOnly', 'GRANT', 'GRANT'],
  ['CALL p()', 'QueryNotSelectOnly', 'CALL', 'CALL'],
  [
    'WITH d AS (DELETE FROM gold RETURNING *) SELECT * FROM d',
    'QueryNotSelectOnly',
    'DELETE',
    'DELETE inside the query at line 1, column 24',
  ],
  ['SELECT 1; SELECT 2', 'QueryNotSingleStatement', undefined, '2 statements'],
  ['SELECT 1; DROP TABLE gold', 'QueryNotSingleStatement', undefined, 'line 1, column 11'],
  ['SELECT * INTO t2 FROM gold', 'QuerySelectInto', 'SELECT INTO', 'creates a table'],
  ['SELECT * FROM gold FOR UPDATE', 'QueryLocking', 'FOR UPDATE', 'FOR UPDATE locks rows'],
  ['SELECT * FROM gold FOR SHARE', 'QueryLocking', 'FOR SHARE', 'FOR SHARE locks rows'],
  ['SELECT pg_sleep(3600)', 'QueryFunctionDenied', 'pg_sleep()', 'function pg_sleep() at line 1, column 8'],
  [
    "SELECT pg_catalog.PG_SLEEP_FOR('1 hour')",
    'QueryFunctionDenied',
    'pg_catalog.pg_sleep_for()',
    'not allowed',
  ],
  [
    'SELECT ra FROM gold WHERE ra IN (SELECT x FROM (SELECT pg_sleep(1) AS x) s)',
    'QueryFunctionDenied',
    'pg_sleep()',
    'column 56',
  ],
  ['WITH s AS (SELECT pg_sleep(5)) SELECT * FROM s', 'QueryFunctionDenied', 'pg_sleep()', 'pg_sleep'],
  ["SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", 'QueryFunctionDenied', 'dblink()', 'dblink'],
  ["SELECT lo_import('/etc/passwd')", 'QueryFunctionDenied', 'lo_import()', 'lo_import'],
  ["SELECT pg_read_file('/etc/passwd')", 'QueryFunctionDenied', 'pg_read_file()', 'pg_read_file'],
  ["SELECT pg_ls_dir('.')", 'QueryFunctionDenied', 'pg_ls_dir()', 'pg_ls_dir'],
  ["SELECT set_config('statement_timeout', '0', false)", 'QueryFunctionDenied', 'set_config()', 'set_config'],
  ['SELECT pg_terminate_backend(1)', 'QueryFunctionDenied', 'pg_terminate_backend()', 'pg_terminate_backend'],
  ['SELECT pg_cancel_backend(1)', 'QueryFunctionDenied', 'pg_cancel_backend()', 'pg_cancel_backend'],
  ["SELECT query_to_xml('delete from gold', true, true, '')", 'QueryFunctionDenied', 'query_to_xml()', 'xml'],
  ['SELECT a FROM t, LATERAL pg_advisory_lock(1) l', 'QueryFunctionDenied', 'pg_advisory_lock()', 'advisory'],
  ["SELECT nextval('s')", 'QueryFunctionDenied', 'nextval()', 'nextval'],
  ['SELECT\n  ra,\n  pg_sleep(1)\nFROM gold', 'QueryFunctionDenied', 'pg_sleep()', 'line 3, column 3'],
  ["SELECT 'é', pg_sleep(1)", 'QueryFunctionDenied', 'pg_sleep()', 'line 1, column 13'],
  ['SELEC 1', 'QuerySyntax', undefined, 'syntax error at or near "SELEC" at line 1, column 1'],
  ['SELECT FROM WHERE', 'QuerySyntax', undefined, 'syntax error at or near "WHERE" at line 1, column 13'],
  ['', 'QueryEmpty', undefined, 'no statement'],
  ['  -- only a comment', 'QueryEmpty', undefined, 'no statement'],
];

describe('validateQuery', () => {
  it.each(ACCEPTED)('accepts %j', async (sql) => {
    await expect(validateQuery(sql)).resolves.toBeUndefined();
  });

  it.each(REFUSED)('refuses %j', async (sql, code, construct, message) => {
    const err = await validateQuery(sql).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryValidationError);
    const v = err as QueryValidationError;
    expect({ code: v.code, construct: v.construct }).toEqual({ code, construct });
    expect(v.message).toContain(message);
  });

  it('takes another deny-list, prefixes with *', async () => {
    await expect(validateQuery('SELECT pg_sleep(1)', { deniedFunctions: [] })).resolves.toBeUndefined();
    await expect(validateQuery('SELECT my_slow_udf(1)', { deniedFunctions: ['my_slow*'] })).rejects.toThrow(
      'function my_slow_udf() at line 1, column 8',
    );
  });
});
