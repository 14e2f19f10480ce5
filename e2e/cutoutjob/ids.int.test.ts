// A CutoutJob's COADD_OBJECT_ID lookup against a real PostgreSQL: the SQL the operator writes (cutoutjob/ids.ts)
// runs on a table whose names need quoting, returns each ID that exists once under the fixed column names, and
// the runner maps every input row back through that answer (cutout/ids.ts) — duplicates kept, unknown IDs unmatched.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectionObjects } from '../../operator/src/api/v1alpha1/index.js';
import { ID_RESULT_COLUMNS, idQueries, idQuery } from '../../operator/src/controllers/cutoutjob/ids.js';
import { foundObjects, idRecords, parseIdPositions } from '../../services/cutout-runner/src/cutout/ids.js';
import { DES_LIMITS } from '../../services/cutout-runner/src/cutout/positions.js';
import { validateQuery } from '../../services/query-runner/src/validate.js';
import { startPostgres, type ServiceHandle } from '../services/index.js';

let db: ServiceHandle;
let client: pg.Client;
const OBJECTS: CollectionObjects = {
  catalogRef: { name: 'des' },
  schema: 'Y6 gold',
  table: 'Objects"Main',
  idColumn: 'COADD_OBJECT_ID',
  raColumn: 'RA',
  decColumn: 'dec',
};

beforeAll(async () => {
  db = await startPostgres();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`
    CREATE SCHEMA "Y6 gold";
    CREATE TABLE "Y6 gold"."Objects""Main" ("COADD_OBJECT_ID" bigint PRIMARY KEY, "RA" double precision, dec double precision);
    INSERT INTO "Y6 gold"."Objects""Main"
      SELECT 1000000000 + i, i * 0.001, -30 - i * 0.001 FROM generate_series(1, 5000) AS s(i);
    INSERT INTO "Y6 gold"."Objects""Main" VALUES (9223372036854775807, 359.5, -29.5), (-7, 0.5, -30.5);`);
}, 60_000);
afterAll(async () => {
  await client?.end();
  await db?.stop({ removeData: true });
});

describe('the COADD_OBJECT_ID lookup on PostgreSQL', () => {
  it('finds the IDs that exist, each once, and maps every row back with its own options', async () => {
    const text = [
      'COADD_OBJECT_ID,XSIZE',
      '1000000002,0.5',
      '42,',
      '9223372036854775807,',
      '+0001000000002,',
      '-7,',
      'nope,',
    ].join('\n');
    const parsed = parseIdPositions(text, DES_LIMITS);
    const q = idQuery(OBJECTS, parsed.ids);
    await validateQuery(q.sql);
    const res = await client.query<Record<string, string | number>>(q.sql);
    expect(res.fields.map((f) => f.name)).toEqual([
      ID_RESULT_COLUMNS.idColumn,
      ID_RESULT_COLUMNS.raColumn,
      ID_RESULT_COLUMNS.decColumn,
    ]);
    expect(res.rows.map((r) => String(r[ID_RESULT_COLUMNS.idColumn])).sort()).toEqual(
      ['-7', '1000000002', '9223372036854775807'].sort(),
    );
    // The result as the plan Job reads it (RA, DEC, ID cells as written), then every input row mapped.
    const records = [
      { fields: ['RA', 'DEC', 'ID'], line: 1 },
      ...res.rows.map((r, i) => ({
        fields: [String(r['ra']), String(r['dec']), String(r['coadd_object_id'])],
        line: i + 2,
      })),
    ];
    const mapped = idRecords(parsed, {
      found: foundObjects(records),
      queried: q.queried,
      where: 'the table',
    });
    expect(mapped.slice(1).map((r) => [r.fields.slice(0, 3), r.unmatched, r.error])).toEqual([
      [['0.002', '-30.002', '0.5'], undefined, undefined],
      [['', '', ''], 'not-in-catalogue: COADD_OBJECT_ID 42 is not in the table', undefined],
      [['359.5', '-29.5', ''], undefined, undefined],
      [['0.002', '-30.002', ''], undefined, undefined],
      [['0.5', '-30.5', ''], undefined, undefined],
      [['', '', ''], undefined, 'COADD_OBJECT_ID "nope" is not a 64-bit integer'],
    ]);
  });

  it('looks up as many IDs as one QueryJob holds in one statement that PostgreSQL runs', async () => {
    const ids = Array.from({ length: 12_000 }, (_, i) => String(1000000001 + i));
    const q = idQuery(OBJECTS, ids);
    expect(q.queried).toBeGreaterThan(8000);
    expect(q.queried).toBeLessThan(ids.length);
    const res = await client.query(q.sql);
    // The table holds IDs 1000000001 … 1000005000: all of them are among the first `queried`.
    expect(res.rowCount).toBe(5000);
  });

  it('splits 20,000 IDs over lookups that together find each stored one exactly once', async () => {
    // Every fourth ID is in the table, spread over the whole list (so over every lookup).
    const ids = Array.from({ length: 20_000 }, (_, i) =>
      String(i % 4 === 0 ? 1000000001 + i / 4 : 3000000000 + i),
    );
    const q = idQueries(OBJECTS, ids);
    expect(q.sqls.length).toBe(3);
    expect(q.queried).toBe(ids.length);
    const found: string[] = [];
    for (const sql of q.sqls) {
      await validateQuery(sql);
      const res = await client.query<Record<string, string>>(sql);
      expect(res.rowCount).toBeGreaterThan(0);
      found.push(...res.rows.map((r) => String(r[ID_RESULT_COLUMNS.idColumn])));
    }
    expect(found.sort()).toEqual(ids.filter((v) => v.startsWith('1')).sort());
  });
});
