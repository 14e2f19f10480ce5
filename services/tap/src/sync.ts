// TAP /sync, the quick path: the query runs in this process through the query-runner's streaming reader
// (READ ONLY transaction, statement_timeout) with `LIMIT MAXREC + 1` pushed into the SQL and MAXREC as the
// reader's `maxRecords` — the extra row's arrival is the truthful overflow flag (VOTable
// `QUERY_STATUS OVERFLOW`). Rows go from the cursor through the writer to the socket a batch at a time;
// FITS, whose NAXIS2 is patched at the end, is assembled in memory (a sync result is capped by MAXREC).
// Errors before the first byte (refused query, timeout, missing table) are a DALI error VOTable.

import { readComments, withComments } from '@skyport/query-runner/dist/src/comments.js';
import { createWriter, isFileWriter, type Format } from '@skyport/query-runner/dist/src/formats/index.js';
import { openQuery } from '@skyport/query-runner/dist/src/reader.js';
import type { Response } from 'express';
import type pg from 'pg';
import { ParamError } from './params.js';

/**
 * `sql` with `LIMIT maxrec + 1` pushed into it, so the planner knows how few rows are wanted (a cone's
 * index scan stops early). The subquery keeps the columns, their names and their origin tables (column
 * COMMENTs still apply); the newline ends a trailing `--` comment.
 */
export function limitSql(sql: string, maxrec: number): string {
  return `SELECT * FROM (${sql}\n) AS tap_sync LIMIT ${maxrec + 1}`;
}

export interface SyncRequest {
  readonly sql: string;
  readonly format: Format;
  readonly maxrec: number;
  readonly timeoutSeconds: number;
}

/** Rows per cursor fetch on the quick path. */
const BATCH_ROWS = 2_000;

function concatPatched(
  chunks: readonly Uint8Array[],
  patches: readonly { offset: number; bytes: Uint8Array }[],
): Buffer {
  const all = Buffer.concat(chunks);
  for (const p of patches) all.set(p.bytes, p.offset);
  return all;
}

/** Writes `chunk` and waits for drain when the socket's buffer is full. */
async function send(res: Response, chunk: Uint8Array): Promise<void> {
  if (chunk.length === 0) return;
  if (!res.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
}

/**
 * Runs `req` on a pooled connection and streams the result into `res`. A client that goes away, or the
 * timeout passing, cancels the backend (pg_cancel_backend) so nothing keeps running.
 */
export async function runSync(pool: pg.Pool, req: SyncRequest, res: Response): Promise<void> {
  if (req.format === 'hdf5') throw new ParamError('RESPONSEFORMAT', 'hdf5 is written as a file: use /async');
  const client = await pool.connect();
  let broken = false;
  let finished = false;
  const cancel = (): void => {
    if (finished || broken) return;
    broken = true;
    const pid = (client as unknown as { processID: number }).processID;
    void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  };
  const timer = setTimeout(cancel, req.timeoutSeconds * 1000);
  res.on('close', () => {
    if (!res.writableFinished) cancel();
  });
  try {
    const q = await openQuery(client, {
      sql: limitSql(req.sql, req.maxrec),
      statementTimeoutMs: req.timeoutSeconds * 1000,
      maxRecords: req.maxrec,
      batchRows: BATCH_ROWS,
    });
    try {
      const comments = await cachedComments(pool, q.sources);
      const columns = withComments(q.columns, q.sources, comments);
      const writer = createWriter(req.format, columns);
      if (isFileWriter(writer))
        throw new ParamError('RESPONSEFORMAT', `${req.format} is written as a file: use /async`);
      res.status(200).type(writer.mediaType);
      if (req.format === 'fits') {
        const chunks: Uint8Array[] = [writer.begin()];
        for await (const b of q.batches) chunks.push(writer.rows(b));
        chunks.push(writer.end(q.status()));
        res.end(concatPatched(chunks, writer.patches()));
      } else {
        // Each batch's bytes wait for the next batch (or the end) and go with them: a result of one batch —
        // the 1,000-row quick query — is one write with a Content-Length, not three chunks.
        let held: Uint8Array = writer.begin();
        let holdsRows = false;
        for await (const b of q.batches) {
          if (broken) break;
          const rows = writer.rows(b);
          if (holdsRows) {
            await send(res, held);
            held = rows;
          } else {
            held = Buffer.concat([held, rows]);
            holdsRows = true;
          }
        }
        if (!broken) res.end(Buffer.concat([held, writer.end(q.status())]));
      }
      finished = true;
    } finally {
      await q.close();
    }
  } finally {
    clearTimeout(timer);
    // A cancelled or failed connection may hold an aborted transaction: drop it rather than reuse it.
    client.release(broken || !finished);
  }
}

/** How long column COMMENTs are reused: a quick query then costs no extra round trip. */
const COMMENTS_TTL_MS = 60_000;
const commentCache = new WeakMap<pg.Pool, Map<string, { at: number; comments: Map<string, string> }>>();

/**
 * The result columns' COMMENTs, read on another pooled connection (the first holds the cursor) and kept
 * for COMMENTS_TTL_MS per set of source columns.
 */
async function cachedComments(
  pool: pg.Pool,
  sources: Parameters<typeof readComments>[1],
): Promise<Map<string, string>> {
  if (sources.every((s) => s === undefined)) return new Map();
  const cache = commentCache.get(pool) ?? new Map<string, { at: number; comments: Map<string, string> }>();
  commentCache.set(pool, cache);
  const key = sources.map((s) => (s === undefined ? '-' : `${s.table}:${s.column}`)).join(',');
  const hit = cache.get(key);
  if (hit !== undefined && Date.now() - hit.at < COMMENTS_TTL_MS) return hit.comments;
  // readComments only calls query(), which a pool has with the same signature.
  const comments = await readComments(pool as unknown as pg.Client, sources);
  if (cache.size > 1000) cache.clear();
  cache.set(key, { at: Date.now(), comments });
  return comments;
}
