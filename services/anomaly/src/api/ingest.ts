// Reads a data body of any accepted format into memory (small) or into stored dataset chunks (large).

import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { Matrix } from '../engine/contract.js';
import type { DatasetMeta, Store } from '../store/store.js';
import { charsetOf, decodedBody, type Charset } from './body.js';
import { HttpError } from './errors.js';
import {
  formatOf,
  parseBinary,
  parseCsv,
  parseJsonRows,
  parseNdjson,
  parseShape,
  RowSink,
  tooLarge,
  type InputFormat,
  type ParseOptions,
} from './parse.js';
import { scoreJsonSchema, validator } from './schemas.js';

/** What an ingested body became. */
export type Ingested =
  | {
      readonly kind: 'memory';
      readonly matrix: Matrix;
      readonly columns: string[] | null;
      readonly format: InputFormat;
    }
  | { readonly kind: 'stored'; readonly dataset: DatasetMeta };

/** Ingestion settings. */
export interface IngestOptions {
  readonly tenant: string;
  readonly store: Store;
  readonly chunkRows: number;
  readonly maxBytes: number;
  readonly maxCols: number;
  /** Keep up to this many rows in memory (0 = always store). */
  readonly holdRows: number;
  /** Stored datasets made from this body are temporary (expire; score-job inputs). */
  readonly temporary: boolean;
  readonly expectCols?: number | undefined;
  /** Names rows map to (a model's columns); see {@link ParseOptions.columns}. */
  readonly columns?: readonly string[] | null | undefined;
}

/** The `header` query parameter of CSV bodies: present (default) or absent. */
export function headerParam(q: Record<string, unknown>): 'present' | 'absent' {
  const h = q['header'];
  if (h === undefined || h === 'present') return 'present';
  if (h === 'absent') return 'absent';
  throw new HttpError(400, 'InvalidRequest', `header: must be present or absent, got ${JSON.stringify(h)}`, {
    field: 'header',
  });
}

const validateScoreJson = validator<{ data: unknown[][] }>(scoreJsonSchema);

async function readAll(body: AsyncIterable<Uint8Array>, maxBytes: number, charset: Charset): Promise<string> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const b of body) {
    n += b.byteLength;
    if (n > maxBytes) throw tooLarge(maxBytes);
    parts.push(b);
  }
  return Buffer.concat(parts).toString(charset === 'latin1' ? 'latin1' : 'utf8');
}

/** Parses the request body; a parse error deletes any chunks already stored and rethrows. */
export async function ingest(req: Request, o: IngestOptions): Promise<Ingested> {
  const format = formatOf(req.headers['content-type']);
  if (format === null) {
    throw new HttpError(
      415,
      'UnsupportedMediaType',
      `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not one of text/csv, application/x-ndjson, application/octet-stream, application/json`,
      { field: 'Content-Type' },
    );
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) throw tooLarge(o.maxBytes);
  const id = randomUUID();
  const sink = new RowSink(o.chunkRows, o.holdRows, (i, chunk) =>
    o.store.putDatasetChunk(o.tenant, id, i, chunk, o.temporary),
  );
  const charset = format === 'binary' ? 'utf-8' : charsetOf(req.headers['content-type']);
  const opts: ParseOptions = {
    maxBytes: o.maxBytes,
    maxCols: o.maxCols,
    shape: format === 'binary' ? parseShape(req.headers['x-shape'] as string | undefined) : undefined,
    expectCols: o.expectCols,
    columns: o.columns,
    header: headerParam(req.query),
    charset,
  };
  // Byte limits count decoded bytes, so a small compressed body cannot expand past them.
  const body = decodedBody(req);
  let columns: string[] | null = null;
  try {
    if (format === 'csv') columns = await parseCsv(body, opts, sink);
    else if (format === 'ndjson') columns = await parseNdjson(body, opts, sink);
    else if (format === 'binary') await parseBinary(body, opts, sink);
    else {
      let json: unknown;
      try {
        json = JSON.parse(await readAll(body, o.maxBytes, charset));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(
          400,
          'InvalidJson',
          `body: ${err instanceof Error ? err.message : 'invalid JSON'}`,
          { field: '/' },
        );
      }
      parseJsonRows(validateScoreJson(json).data, opts, sink);
    }
    if (sink.rows === 0 || sink.cols === null)
      throw new HttpError(400, 'EmptyData', 'the body contains no data rows', {});
    const inMemory = await sink.finish();
    if (inMemory !== null && o.holdRows > 0) {
      return {
        kind: 'memory',
        matrix: { data: inMemory, rows: sink.rows, cols: sink.cols },
        columns,
        format,
      };
    }
    if (inMemory !== null) throw new Error('sink kept rows with holdRows = 0');
    const dataset: DatasetMeta = {
      id,
      rows: sink.rows,
      cols: sink.cols,
      chunkRows: o.chunkRows,
      chunks: sink.flushed,
      columns,
      format,
      createdAt: new Date().toISOString(),
      temporary: o.temporary,
    };
    await o.store.putDatasetMeta(o.tenant, dataset);
    return { kind: 'stored', dataset };
  } catch (err) {
    await sink.drain().catch(() => undefined);
    if (sink.flushed > 0) await o.store.deleteDataset(o.tenant, id, sink.flushed).catch(() => undefined);
    throw err;
  }
}
