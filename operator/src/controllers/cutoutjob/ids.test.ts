// The ID lookup's SQL: quoted names, canonical integer IDs, the query runner's own validator, one QueryJob's room.
import { describe, expect, it } from 'vitest';
import { validateQuery } from '@skyport/query-runner/validate';
import { QUERYJOB_QUERY_MAX, type CollectionObjects } from '../../api/v1alpha1/index.js';
import { ID_LOOKUPS_MAX, idQueries, idQuery, lookupWhere, quoteIdent } from './ids.js';

const OBJECTS: CollectionObjects = {
  catalogRef: { name: 'des-y6' },
  schema: 'y6',
  table: 'gold',
  idColumn: 'coadd_object_id',
  raColumn: 'ra',
  decColumn: 'dec',
};

describe('idQuery', () => {
  it('selects id, ra and dec under fixed names for the IDs, every name quoted', async () => {
    const q = idQuery(OBJECTS, ['101', '-5', '9223372036854775807']);
    expect(q).toEqual({
      sql:
        'SELECT "coadd_object_id" AS coadd_object_id, "ra" AS ra, "dec" AS dec FROM "y6"."gold" ' +
        `WHERE "coadd_object_id" = ANY('{101,-5,9223372036854775807}'::bigint[])`,
      queried: 3,
    });
    await validateQuery(q.sql);
  });

  it('quotes names a user could not write bare (quotes doubled, case and spaces kept)', async () => {
    expect(quoteIdent('Obj"ID')).toBe('"Obj""ID"');
    const { schema: _s, ...rest } = OBJECTS;
    const noSchema = { ...rest, table: 'Gold Objects"; DROP TABLE x; --', idColumn: 'ID' };
    const q = idQuery(noSchema, ['1']);
    expect(q.sql).toContain('FROM "Gold Objects""; DROP TABLE x; --" WHERE "ID" = ANY');
    // One SELECT, no second statement: the query runner's validator (PostgreSQL's parser) agrees.
    await validateQuery(q.sql);
    expect(lookupWhere(noSchema)).toBe('Catalog des-y6 table "Gold Objects""; DROP TABLE x; --"');
  });

  it("holds the first IDs that fit in a QueryJob's query text, never more", async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => String(1_000_000_000 + i));
    const q = idQuery(OBJECTS, ids);
    expect(q.sql.length).toBeLessThanOrEqual(QUERYJOB_QUERY_MAX);
    // 11 characters an ID (10 digits and a comma): all the room is used.
    expect(QUERYJOB_QUERY_MAX - q.sql.length).toBeLessThan(11);
    expect(q.queried).toBe(Math.floor((QUERYJOB_QUERY_MAX - idQuery(OBJECTS, []).sql.length + 1) / 11));
    expect(q.sql).toContain(`,${ids[q.queried - 1]}}'`);
    expect(q.sql).not.toContain(ids[q.queried] ?? 'none');
    await validateQuery(q.sql);
    expect(idQuery(OBJECTS, ['12345'], 20).queried).toBe(0);
  });
});

describe('idQueries', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => String(1_000_000_000 + i));
  /** The IDs a lookup query holds, parsed back out of its SQL. */
  const held = (sql: string) =>
    (/ANY\('\{([^}]*)\}'/.exec(sql)?.[1] ?? '').split(',').filter((v) => v !== '');

  it('splits the IDs in order over full queries, each looked up exactly once', async () => {
    const q = idQueries(OBJECTS, ids);
    const per = idQuery(OBJECTS, ids).queried;
    expect(q.sqls).toHaveLength(Math.ceil(ids.length / per));
    expect(q.queried).toBe(ids.length);
    expect(q.sqls.flatMap(held)).toEqual(ids);
    for (const sql of q.sqls) {
      expect(sql.length).toBeLessThanOrEqual(QUERYJOB_QUERY_MAX);
      await validateQuery(sql);
    }
    // Every query but the last is full.
    for (const sql of q.sqls.slice(0, -1)) expect(held(sql)).toHaveLength(per);
  });

  it('stops at the most lookups a job makes; the IDs beyond are not queried', () => {
    const q = idQueries(OBJECTS, ids, 2_000, 3);
    expect(q.sqls).toHaveLength(3);
    expect(q.sqls.flatMap(held)).toEqual(ids.slice(0, q.queried));
    expect(q.queried).toBeLessThan(ids.length);
    expect(idQueries(OBJECTS, ids).sqls.length).toBeLessThanOrEqual(ID_LOOKUPS_MAX);
  });

  it('makes no query for no IDs or when not even one fits', () => {
    expect(idQueries(OBJECTS, [])).toEqual({ sqls: [], queried: 0 });
    expect(idQueries(OBJECTS, ['12345'], 20)).toEqual({ sqls: [], queried: 0 });
  });
});
