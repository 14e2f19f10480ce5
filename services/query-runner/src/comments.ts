// Column metadata from the database's COMMENTs: a column's comment is either a JSON object
// {"unit", "ucd", "description"} (any subset) or plain text, which is the description. The runner reads
// them for the result's table columns on a second connection (the first holds the open cursor) and the
// writers put them into FITS TUNIT/TUCD/TCOMM, VOTable FIELD unit/ucd/DESCRIPTION, Parquet and HDF5.

import type pg from 'pg';
import type { Column } from './formats/index.js';
import type { ColumnSource } from './reader.js';

export interface ColumnMeta {
  readonly unit?: string;
  readonly ucd?: string;
  readonly description?: string;
}

/** A comment's metadata: a JSON object's string fields, or the whole text as the description. */
export function parseComment(comment: string): ColumnMeta {
  const text = comment.trim();
  if (text.startsWith('{')) {
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      const s = (k: string): string | undefined =>
        typeof o[k] === 'string' && o[k] !== '' ? o[k] : undefined;
      const unit = s('unit');
      const ucd = s('ucd');
      const description = s('description');
      return {
        ...(unit !== undefined && { unit }),
        ...(ucd !== undefined && { ucd }),
        ...(description !== undefined && { description }),
      };
    } catch {
      // Not JSON after all: the text is the description.
    }
  }
  return text === '' ? {} : { description: text };
}

/** The comments of the given table columns, keyed `table:column`, in one query. */
export async function readComments(
  client: pg.Client,
  sources: readonly (ColumnSource | undefined)[],
): Promise<Map<string, string>> {
  const known = sources.filter((s): s is ColumnSource => s !== undefined);
  if (known.length === 0) return new Map();
  const r = await client.query<{ t: number; c: number; d: string }>(
    `SELECT objoid::int8 AS t, objsubid AS c, description AS d FROM pg_description
      WHERE classoid = 'pg_class'::regclass AND (objoid, objsubid) IN
        (SELECT * FROM unnest($1::oid[], $2::int4[]))`,
    [known.map((s) => s.table), known.map((s) => s.column)],
  );
  return new Map(r.rows.map((row) => [`${row.t}:${row.c}`, row.d]));
}

/** The columns with their comment's metadata; metadata already on a column wins. */
export function withComments(
  columns: readonly Column[],
  sources: readonly (ColumnSource | undefined)[],
  comments: ReadonlyMap<string, string>,
): Column[] {
  return columns.map((c, i) => {
    const s = sources[i];
    const comment = s === undefined ? undefined : comments.get(`${s.table}:${s.column}`);
    return comment === undefined ? c : { ...parseComment(comment), ...c };
  });
}
