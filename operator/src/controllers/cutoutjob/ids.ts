// Pure: the SQL of the QueryJob that looks up a CutoutJob's COADD_OBJECT_IDs in its collection's object catalogue
// (`ImageCollection.spec.objects`). The IDs are canonical 64-bit integers (checked by the runner's parser, so no
// text of the user's reaches the SQL) and the names are quoted identifiers; the result's columns have fixed names
// the plan Job reads. The distinct IDs are split over up to ID_LOOKUPS_MAX QueryJobs, each holding as many as fit in
// its query text; IDs beyond them are failed rows with that reason. Each lookup is created once, by a fixed name.
import { QUERYJOB_QUERY_MAX, type CollectionObjects } from '../../api/v1alpha1/index.js';

/** The lookup result's columns (the plan Job's `columns`). */
export const ID_RESULT_COLUMNS = {
  raColumn: 'ra',
  decColumn: 'dec',
  idColumn: 'coadd_object_id',
} as const;

/** A PostgreSQL quoted identifier: `"name"`, a `"` doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The table as the SQL names it (schema-qualified when the collection says). */
function tableOf(o: CollectionObjects): string {
  return o.schema === undefined ? quoteIdent(o.table) : `${quoteIdent(o.schema)}.${quoteIdent(o.table)}`;
}

/** Where the IDs are looked up, for the manifest's reasons: `Catalog <name> table <schema.table>`. */
export function lookupWhere(o: CollectionObjects): string {
  return `Catalog ${o.catalogRef.name} table ${tableOf(o)}`;
}

/** The lookup query and how many of `ids` (the first ones, in order) it holds. */
export interface IdQuery {
  readonly sql: string;
  readonly queried: number;
}

/**
 * `SELECT id, ra, dec FROM table WHERE id = ANY('{…}'::bigint[])` for the first distinct IDs that fit in
 * `maxChars` (a QueryJob's query text limit); `ids` are canonical integers (`cutout/ids.ts canonicalId`).
 */
export function idQuery(
  o: CollectionObjects,
  ids: readonly string[],
  maxChars = QUERYJOB_QUERY_MAX,
): IdQuery {
  const id = quoteIdent(o.idColumn);
  const head =
    `SELECT ${id} AS ${ID_RESULT_COLUMNS.idColumn}, ${quoteIdent(o.raColumn)} AS ${ID_RESULT_COLUMNS.raColumn}, ` +
    `${quoteIdent(o.decColumn)} AS ${ID_RESULT_COLUMNS.decColumn} FROM ${tableOf(o)} WHERE ${id} = ANY('{`;
  const tail = `}'::bigint[])`;
  let room = maxChars - head.length - tail.length;
  let queried = 0;
  for (const v of ids) {
    const need = v.length + (queried === 0 ? 0 : 1);
    if (need > room) break;
    room -= need;
    queried++;
  }
  return { sql: `${head}${ids.slice(0, queried).join(',')}${tail}`, queried };
}

/** Most lookup QueryJobs one CutoutJob makes (about 9,000 ten-digit IDs each: ~145,000 distinct IDs in all). */
export const ID_LOOKUPS_MAX = 16;

/** The lookup queries of a job's IDs, in order, and how many of `ids` (the first ones) they hold together. */
export interface IdQueries {
  readonly sqls: readonly string[];
  readonly queried: number;
}

/**
 * `ids` split in order over as few lookup queries as hold them (each filled up to `maxChars`), at most `maxLookups`:
 * the first `queried` IDs are looked up, each by exactly one query.
 */
export function idQueries(
  o: CollectionObjects,
  ids: readonly string[],
  maxChars = QUERYJOB_QUERY_MAX,
  maxLookups = ID_LOOKUPS_MAX,
): IdQueries {
  const sqls: string[] = [];
  let queried = 0;
  while (queried < ids.length && sqls.length < maxLookups) {
    const q = idQuery(o, ids.slice(queried), maxChars);
    if (q.queried === 0) break;
    sqls.push(q.sql);
    queried += q.queried;
  }
  return { sqls, queried };
}
