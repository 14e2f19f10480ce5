import { describe, expect, it } from 'vitest';
import { ParamError, collectParams, parseFormat, parseLang, parseMaxrec, toSql } from './params.js';

const p = (o: Record<string, string | string[]>): ReturnType<typeof collectParams> => collectParams(o);

describe('TAP parameters', () => {
  it('are case-insensitive by name, merged from query and form', () => {
    const m = collectParams({ lang: 'ADQL' }, { Query: 'SELECT 1', phase: ['A', 'B'] });
    expect([...m]).toEqual([
      ['LANG', ['ADQL']],
      ['QUERY', ['SELECT 1']],
      ['PHASE', ['A', 'B']],
    ]);
  });

  it('read FORMAT and RESPONSEFORMAT as short names or media types', () => {
    expect(parseFormat(p({}))).toBe('votable');
    expect(parseFormat(p({ FORMAT: 'text/csv' }))).toBe('csv');
    expect(parseFormat(p({ RESPONSEFORMAT: 'application/x-votable+xml; serialization=BINARY2' }))).toBe(
      'votable-binary2',
    );
    expect(parseFormat(p({ responseformat: 'application/vnd.apache.parquet' }))).toBe('parquet');
    expect(() => parseFormat(p({ FORMAT: 'xls' }))).toThrow(ParamError);
    expect(() => parseFormat(p({ FORMAT: ['csv', 'fits'] }))).toThrow(/FORMAT: given 2 times/);
  });

  it('read MAXREC within the hard limit, and LANG', () => {
    expect(parseMaxrec(p({}), 100, 1000)).toBe(100);
    expect(parseMaxrec(p({ MAXREC: '0' }), 100, 1000)).toBe(0);
    expect(() => parseMaxrec(p({ MAXREC: '1001' }), 100, 1000)).toThrow(/over this service's limit of 1000/);
    expect(() => parseMaxrec(p({ MAXREC: '-1' }), 100, 1000)).toThrow(/not a non-negative integer/);
    expect(parseLang(p({ LANG: 'adql-2.0' }))).toBe('ADQL');
    expect(parseLang(p({ LANG: 'PG-SQL' }))).toBe('PG-SQL');
  });

  it('translate ADQL and validate SQL before anything reaches the database', async () => {
    await expect(toSql('ADQL', 'SELECT TOP 3 ra FROM t')).resolves.toBe('SELECT  ra FROM t\nLIMIT 3');
    await expect(toSql('PG-SQL', 'SELECT ra FROM t;')).resolves.toBe('SELECT ra FROM t');
    await expect(toSql('PG-SQL', 'SELECT 1; SELECT 2')).rejects.toThrow(
      /2 statements: a query is exactly one SELECT/,
    );
    await expect(
      toSql('ADQL', 'SELECT * FROM t WHERE 1 = CONTAINS(POINT(ra, dec), POLYGON(0, 0, 1, 1, 0, 1))'),
    ).rejects.toThrow(/POLYGON/);
  });
});
