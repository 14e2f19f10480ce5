import { describe, expect, it } from 'vitest';
import { adqlToSql } from './adql.js';
import { QueryValidationError } from './validate.js';

const HAV = (ra1: string, dec1: string, ra2: string, dec2: string): string =>
  `(2 * degrees(asin(sqrt(power(sin(radians((${dec2}) - (${dec1})) / 2), 2) + ` +
  `cos(radians(${dec1})) * cos(radians(${dec2})) * power(sin(radians((${ra2}) - (${ra1})) / 2), 2)))))`;

describe('adqlToSql', () => {
  it('turns TOP into a LIMIT on the outermost SELECT, leaving strings and comments alone', async () => {
    expect(await adqlToSql("SELECT TOP 10 ra, 'TOP 5' AS s FROM des_sample -- TOP 3\n")).toBe(
      "SELECT  ra, 'TOP 5' AS s FROM des_sample -- TOP 3\nLIMIT 10",
    );
    expect(await adqlToSql('SELECT DISTINCT TOP 3 tilename FROM t;')).toBe(
      'SELECT DISTINCT  tilename FROM t\nLIMIT 3',
    );
    expect(await adqlToSql('SELECT a FROM t')).toBe('SELECT a FROM t');
  });

  it('turns CONTAINS(POINT, CIRCLE) = 1 into a bounding box on (ra, dec) and the exact distance', async () => {
    const sql = await adqlToSql(
      "SELECT ra FROM t WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, -60, 0.5)) = 1 AND flags = 0",
    );
    const dra = 0.5 / Math.cos((60.5 * Math.PI) / 180);
    expect(sql).toBe(
      `SELECT ra FROM t WHERE ((dec) BETWEEN -60.5 AND -59.5 AND (ra) BETWEEN ${10 - dra} AND ${10 + dra} AND ` +
        `${HAV('ra', 'dec', '10', '-60')} <= (0.5)) AND flags = 0`,
    );
  });

  it('wraps the RA range at 0/360, drops it near a pole, and keeps only the distance for non-literal centres', async () => {
    const wrap = await adqlToSql('SELECT * FROM t WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(359.9, 0, 0.2))');
    expect(wrap).toMatch(
      /\(dec\) BETWEEN -0\.2 AND 0\.2 AND \(\(ra\) >= 359\.6999\d* OR \(ra\) <= 0\.1000\d*\) AND/,
    );
    const pole = await adqlToSql(
      "SELECT * FROM t WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 0, -89.95, 0.1)) = 1",
    );
    expect(pole).not.toContain('(ra) BETWEEN');
    const join = await adqlToSql(
      'SELECT * FROM a, b WHERE CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, 1.0 / 3600)) = 1',
    );
    expect(join).toBe(`SELECT * FROM a, b WHERE (${HAV('a.ra', 'a.dec', 'b.ra', 'b.dec')} <= (1.0 / 3600))`);
    const outside = await adqlToSql('SELECT * FROM t WHERE CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3)) = 0');
    expect(outside).toBe(`SELECT * FROM t WHERE (NOT (${HAV('ra', 'dec', '1', '2')} <= (3)))`);
  });

  it('turns DISTANCE into the haversine distance in degrees, two POINTs or four numbers', async () => {
    expect(
      await adqlToSql("SELECT DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 10, -5)) AS d FROM t"),
    ).toBe(`SELECT ${HAV('ra', 'dec', '10', '-5')} AS d FROM t`);
    expect(await adqlToSql('SELECT distance(ra, dec, 10, -5) FROM t')).toBe(
      `SELECT ${HAV('ra', 'dec', '10', '-5')} FROM t`,
    );
  });

  const REFUSED: [string, string, string][] = [
    [
      "SELECT * FROM t WHERE CONTAINS(POINT('ICRS', ra, dec), BOX('ICRS', 1, 2, 3, 4)) = 1",
      'CONTAINS(POINT, BOX)',
      'line 1, column 56',
    ],
    [
      "SELECT * FROM t WHERE INTERSECTS(CIRCLE('ICRS', 1, 2, 3), POLYGON('ICRS', 1, 2, 3, 4, 5, 6)) = 1",
      'INTERSECTS',
      'column 23',
    ],
    ['SELECT AREA(CIRCLE(1, 2, 3)) FROM t', 'AREA', 'column 8'],
    [
      "SELECT * FROM t WHERE CONTAINS(POINT('GALACTIC', l, b), CIRCLE('GALACTIC', 1, 2, 3)) = 1",
      'POINT coordinate system',
      'only ICRS',
    ],
    ['SELECT * FROM t WHERE CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3))', 'CONTAINS', 'compared with 1 or 0'],
    ['SELECT COORD1(POINT(ra, dec)) FROM t', 'COORD1', 'not supported'],
    ['SELECT * FROM (SELECT TOP 5 a FROM t) s', 'TOP', 'outermost SELECT'],
    ['SELECT TOP 5 a FROM t UNION SELECT b FROM u', 'TOP with UNION', 'whole query'],
    ['SELECT TOP 5 a FROM t LIMIT 2', 'TOP with LIMIT', 'whole query'],
  ];
  it.each(REFUSED)('refuses %j naming the construct', async (adql, construct, message) => {
    const err = await adqlToSql(adql).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryValidationError);
    expect((err as QueryValidationError).code).toBe('AdqlUnsupported');
    expect((err as QueryValidationError).construct).toBe(construct);
    expect((err as QueryValidationError).message).toContain(message);
  });

  it('validates the translation as SQL (a denied function stays refused)', async () => {
    await expect(adqlToSql('SELECT TOP 1 pg_sleep(10) FROM t')).rejects.toThrow('function pg_sleep()');
  });
});
