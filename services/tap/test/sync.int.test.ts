// /sync, VOSI and authentication against real PostgreSQL (the sample catalog, 3,000 rows): results equal
// the database's rows, MAXREC is pushed down with a truthful overflow flag, refusals are DALI errors.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE, get, postForm, startFixture, type Fixture } from './support/fixture.js';

let f: Fixture;
let db: pg.Client;

beforeAll(async () => {
  f = await startFixture({ rows: 3000 });
  db = new pg.Client({ connectionString: f.dbUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await f?.close();
});

interface JsonResult {
  columns: { name: string; datatype: string; unit?: string; ucd?: string }[];
  data: unknown[][];
  rowCount: number;
  queryStatus: string;
}

async function syncJson(query: string, extra: Record<string, string> = {}): Promise<JsonResult> {
  const res = await postForm(
    `${f.base}/sync`,
    { LANG: 'ADQL', QUERY: query, FORMAT: 'json', ...extra },
    'alice',
  );
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as JsonResult;
}

describe('VOSI', () => {
  it('capabilities name the TAP base, the languages, the formats and the limits', async () => {
    const res = await get(`${f.base}/capabilities`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toContain('standardID="ivo://ivoa.net/std/TAP"');
    expect(xml).toContain(`<accessURL use="base">${f.base}</accessURL>`);
    expect(xml).toContain('<mime>application/vnd.apache.parquet</mime>');
    expect(xml).toContain('<hard unit="row">100000</hard>');
    expect(xml).toContain('<name>ADQL</name>');
  });

  it('availability asks the database', async () => {
    const xml = await (await get(`${f.base}/availability`)).text();
    expect(xml).toContain('<vosi:available>true</vosi:available>');
  });

  it("tables lists the catalog's columns with the COMMENTs' units, UCDs and descriptions", async () => {
    const xml = await (await get(`${f.base}/tables`)).text();
    expect(xml).toContain(`<name>public.${TABLE}</name>`);
    expect(xml).toMatch(
      /<column><name>ra<\/name><description>Right ascension \(J2000\)<\/description><unit>deg<\/unit><ucd>pos.eq.ra;meta.main<\/ucd><dataType xsi:type="vs:TAPType">DOUBLE<\/dataType><flag>indexed<\/flag><\/column>/,
    );
    expect(xml).toMatch(
      /<column><name>tilename<\/name>.*<dataType xsi:type="vs:TAPType" size="12">VARCHAR<\/dataType>/,
    );
    const cols = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = $1`,
      [TABLE],
    );
    expect(xml.match(/<column>/g)?.length).toBe(cols.rows[0]?.n);
  });
});

describe('authentication', () => {
  it('refuses /sync and /async without a token or with an unknown one (401), VOSI stays public', async () => {
    for (const path of ['/sync?LANG=ADQL&QUERY=SELECT+1', '/async']) {
      const none = await get(`${f.base}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      const wrong = await fetch(`${f.base}${path}`, {
        headers: { authorization: 'Bearer nope-nope-nope-nope' },
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain('unknown bearer token');
    }
  });
});

describe('/sync', () => {
  it('returns the rows the database returns (ADQL TOP), as JSON with units and UCDs', async () => {
    const r = await syncJson(
      `SELECT TOP 50 coadd_object_id, ra, dec, tilename FROM ${TABLE} ORDER BY coadd_object_id`,
    );
    const want = await db.query({
      text: `SELECT coadd_object_id::text, ra, dec, tilename FROM ${TABLE} ORDER BY coadd_object_id LIMIT 50`,
      rowMode: 'array',
    });
    expect(r.rowCount).toBe(50);
    expect(r.queryStatus).toBe('OK');
    expect(r.data.map((row) => [String(row[0]), row[1], row[2], row[3]])).toEqual(want.rows);
    expect(r.columns[1]).toMatchObject({ name: 'ra', unit: 'deg', ucd: 'pos.eq.ra;meta.main' });
  });

  it('pushes MAXREC down: MAXREC rows and OVERFLOW when more exist, OK when not', async () => {
    const q = `SELECT coadd_object_id FROM ${TABLE} WHERE dec < -30 ORDER BY coadd_object_id`;
    const n = Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${TABLE} WHERE dec < -30`)).rows[0]?.n,
    );
    expect(n).toBeGreaterThan(100);
    const over = await syncJson(q, { MAXREC: '100' });
    expect([over.rowCount, over.queryStatus]).toEqual([100, 'OVERFLOW']);
    const exact = await syncJson(q, { MAXREC: String(n) });
    expect([exact.rowCount, exact.queryStatus]).toEqual([n, 'OK']);
    const vo = await (
      await postForm(`${f.base}/sync`, { LANG: 'ADQL', QUERY: q, MAXREC: '10' }, 'alice')
    ).text();
    expect(vo).toContain('<INFO name="QUERY_STATUS" value="OVERFLOW"');
    expect((vo.match(/<TR>/g) ?? []).length).toBe(10);
    const voOk = await (
      await postForm(`${f.base}/sync`, { LANG: 'ADQL', QUERY: q, MAXREC: String(n) }, 'alice')
    ).text();
    expect(voOk).not.toContain('OVERFLOW');
  });

  it('answers a cone search (CONTAINS/POINT/CIRCLE) with exactly the rows inside the circle', async () => {
    const centre = (
      await db.query<{ ra: number; dec: number }>(
        `SELECT ra, dec FROM ${TABLE} ORDER BY coadd_object_id LIMIT 1`,
      )
    ).rows[0]!;
    const adql =
      `SELECT coadd_object_id FROM ${TABLE} WHERE CONTAINS(POINT('ICRS', ra, dec), ` +
      `CIRCLE('ICRS', ${centre.ra}, ${centre.dec}, 20)) = 1 ORDER BY coadd_object_id`;
    const r = await syncJson(adql, { MAXREC: '100000' });
    const want = await db.query<{ id: string }>(
      `SELECT coadd_object_id::text AS id FROM ${TABLE}
        WHERE degrees(2 * asin(sqrt(sin(radians(dec - $2) / 2) ^ 2 + cos(radians(dec)) * cos(radians($2)) * sin(radians(ra - $1) / 2) ^ 2))) <= 20
        ORDER BY coadd_object_id`,
      [centre.ra, centre.dec],
    );
    expect(want.rows.length).toBeGreaterThan(5);
    expect(r.data.map((row) => String(row[0]))).toEqual(want.rows.map((x) => x.id));
  });

  it('sends a one-batch result in one piece with its length, and every row of a result of several batches', async () => {
    const sql = `SELECT coadd_object_id FROM ${TABLE} ORDER BY coadd_object_id`;
    const all = (await db.query<{ coadd_object_id: string }>(sql)).rows.map((r) => r.coadd_object_id);
    expect(all.length).toBe(3000); // two 2,000-row batches
    const csv = (q: string) =>
      get(`${f.base}/sync?LANG=PG-SQL&QUERY=${encodeURIComponent(q)}&FORMAT=csv`, 'alice');
    const big = await csv(sql);
    expect(big.headers.get('transfer-encoding')).toBe('chunked');
    expect(await big.text()).toBe('coadd_object_id\r\n' + all.map((id) => `${id}\r\n`).join(''));
    const small = await csv(`${sql} LIMIT 10`);
    const text = await small.text();
    expect(small.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(text).toBe(
      'coadd_object_id\r\n' +
        all
          .slice(0, 10)
          .map((id) => `${id}\r\n`)
          .join(''),
    );
  });

  it('speaks PG-SQL, GET and every sync format', async () => {
    const q = encodeURIComponent(
      `SELECT coadd_object_id, flags FROM ${TABLE} ORDER BY coadd_object_id LIMIT 3`,
    );
    const want = await db.query<{ coadd_object_id: string; flags: number }>(
      `SELECT coadd_object_id, flags FROM ${TABLE} ORDER BY coadd_object_id LIMIT 3`,
    );
    const csv = await get(`${f.base}/sync?LANG=PG-SQL&QUERY=${q}&RESPONSEFORMAT=text/csv`, 'alice');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toBe(
      'coadd_object_id,flags\r\n' + want.rows.map((r) => `${r.coadd_object_id},${r.flags}\r\n`).join(''),
    );
    const tsv = await (await get(`${f.base}/sync?LANG=PG-SQL&QUERY=${q}&FORMAT=tsv`, 'alice')).text();
    expect(tsv.split('\r\n')[1]).toBe(`${want.rows[0]?.coadd_object_id}\t${want.rows[0]?.flags}`);
    const fits = Buffer.from(
      await (await get(`${f.base}/sync?LANG=PG-SQL&QUERY=${q}&FORMAT=fits`, 'alice')).arrayBuffer(),
    );
    expect(fits.length % 2880).toBe(0);
    expect(fits.toString('latin1')).toMatch(/NAXIS2 {2}=\s+3 /);
    const parquet = Buffer.from(
      await (await get(`${f.base}/sync?LANG=PG-SQL&QUERY=${q}&FORMAT=parquet`, 'alice')).arrayBuffer(),
    );
    expect([parquet.subarray(0, 4).toString(), parquet.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
    const b2 = await (await get(`${f.base}/sync?LANG=PG-SQL&QUERY=${q}&FORMAT=votable/b2`, 'alice')).text();
    expect(b2).toContain('<BINARY2>');
  });

  it('refuses bad requests with a DALI error naming the parameter or the construct', async () => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ QUERY: 'SELECT 1' }, 400, /LANG: is required/],
      [{ LANG: 'SQL92x', QUERY: 'SELECT 1' }, 400, /LANG: 'SQL92x' is not supported/],
      [{ LANG: 'ADQL' }, 400, /QUERY: is required/],
      [{ LANG: 'ADQL', QUERY: 'SELECT 1', FORMAT: 'xlsx' }, 400, /RESPONSEFORMAT: 'xlsx' is not one of/],
      [
        { LANG: 'ADQL', QUERY: 'SELECT 1', MAXREC: '100001' },
        400,
        /MAXREC: 100001 is over this service's limit/,
      ],
      [{ LANG: 'ADQL', QUERY: 'SELECT 1', FORMAT: 'hdf5' }, 400, /hdf5 is written as a file: use \/async/],
      [{ LANG: 'PG-SQL', QUERY: `DROP TABLE ${TABLE}` }, 400, /QueryNotSelectOnly|not a SELECT/i],
      [{ LANG: 'PG-SQL', QUERY: 'SELECT pg_sleep(3600)' }, 400, /pg_sleep/],
      [
        {
          LANG: 'ADQL',
          QUERY: `SELECT * FROM ${TABLE} WHERE INTERSECTS(POINT(ra, dec), BOX(0, 0, 1, 1)) = 1`,
        },
        400,
        /INTERSECTS/,
      ],
      [{ LANG: 'ADQL', QUERY: 'SELECT * FROM no_such_table' }, 400, /no_such_table.*42P01/],
      [{ LANG: 'ADQL', QUERY: 'SELECT 1', REQUEST: 'getCapabilities' }, 400, /REQUEST: 'getCapabilities'/],
    ];
    for (const [form, status, message] of cases) {
      const res = await postForm(`${f.base}/sync`, form, 'alice');
      const body = await res.text();
      expect(res.status, JSON.stringify(form)).toBe(status);
      expect(body).toContain('<INFO name="QUERY_STATUS" value="ERROR">');
      expect(body, JSON.stringify(form)).toMatch(message);
    }
    // The read-only role and the READ ONLY transaction: the table is still there.
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE}`)).rows[0]?.n).toBe(3000);
  });
});
