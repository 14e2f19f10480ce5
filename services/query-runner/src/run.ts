// One run of a QueryJob: validate the query, connect, stream it through the reader (binary COPY, or a
// server-side cursor) into the result files, and write the provenance manifest. executionDuration is
// enforced twice: as PostgreSQL's statement_timeout (the whole COPY, or each cursor fetch) and as this run's own deadline over the whole run, which cancels the
// backend (pg_cancel_backend from a second connection) and closes the connection, so no query outlives
// the run. A stop request (SIGTERM, an ABORT) does the same.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { readComments, withComments } from './comments.js';
import { StopError } from './errors.js';
import { openCsvCopy } from './csv-copy.js';
import { writeCsvResult } from './csv-output.js';
import { FORMAT_INFO, type Format } from './formats/info.js';
import { TupleBatch, type Batch } from './formats/tuples.js';
import type { Column } from './formats/types.js';
import { peakRssBytes } from '@skyport/service-kit/rss';
import { collectGarbage } from './heap.js';
import { removePartials, type ResultFile, type ResultSummary, PARTIAL } from './files.js';
import { openQuery, QueryError } from './reader.js';
import type { JobSpec } from './spec.js';
import { validateQuery } from './validate.js';
import { RUNNER_VERSION } from './version.js';

/** What the run prints as JSON lines on stdout. */
export type RunEvent =
  | { readonly event: 'started'; readonly backendPid: number; readonly serverVersion: string }
  | { readonly event: 'progress'; readonly rows: number; readonly bytes: number }
  | {
      readonly event: 'completed';
      readonly rows: number;
      readonly bytes: number;
      readonly overflow: boolean;
      /** The process's peak resident set size so far (VmHWM on Linux: @skyport/service-kit/rss). */
      readonly maxRssBytes: number;
    };

export interface RunOptions {
  readonly emit: (e: RunEvent) => void;
  /** Aborting it stops the run like the deadline does (code Aborted). */
  readonly signal?: AbortSignal;
  /** Minimum time between progress events (ms): 1,000 by default; 0 reports every batch. */
  readonly progressIntervalMs?: number;
  readonly now?: () => Date;
}

/** The provenance manifest written next to the result files. */
export interface Manifest {
  readonly query: string;
  readonly querySha256: string;
  readonly catalog: JobSpec['catalog'];
  readonly server: { readonly version: string };
  readonly format: string;
  readonly compression: string;
  readonly maxRecords: number | null;
  readonly rows: number;
  readonly overflow: boolean;
  readonly bytes: number;
  readonly files: readonly ResultFile[];
  readonly columns: readonly {
    name: string;
    type: string;
    unit?: string;
    ucd?: string;
    description?: string;
  }[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly runner: { readonly name: string; readonly version: string };
}

export const manifestName = (stem: string): string => `${stem}.provenance.json`;
export const errorName = (stem: string): string => `${stem}.error.json`;

async function connectionConfig(spec: JobSpec): Promise<pg.ClientConfig> {
  const c = spec.connection;
  const password =
    c.passwordFile === undefined
      ? undefined
      : (await readFile(c.passwordFile, 'utf8')).replace(/[\r\n]+$/, '');
  return {
    ...(c.host !== undefined && { host: c.host }),
    ...(c.port !== undefined && { port: c.port }),
    ...(c.database !== undefined && { database: c.database }),
    ...(c.user !== undefined && { user: c.user }),
    ...(password !== undefined && { password }),
    application_name: c.applicationName ?? 'skyport-query-runner',
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  };
}

/** Writes `data` as JSON to `dir/name` through a temp name. */
async function writeJson(dir: string, name: string, data: unknown): Promise<void> {
  const tmp = join(dir, name + PARTIAL);
  await writeFile(tmp, JSON.stringify(data, null, 2) + '\n');
  await rename(tmp, join(dir, name));
}

/** Runs the job; resolves with the manifest, or rejects with the error that stopped it (see errors.ts). */
export async function runJob(spec: JobSpec, opts: RunOptions): Promise<Manifest> {
  const now = opts.now ?? ((): Date => new Date());
  const startedAt = now();
  const { dir, stem } = spec.output;
  // The operator gives each job its own directory on the results volume; the first attempt creates it.
  await mkdir(dir, { recursive: true });
  // A killed attempt may have left .partial files; a failed one, an error file.
  await removePartials(dir, stem);
  await rm(join(dir, errorName(stem)), { force: true });
  await validateQuery(spec.query);

  const config = await connectionConfig(spec);
  const client = new pg.Client(config);
  let stopped: StopError | undefined;
  let pid: number | undefined;
  const stop = (e: StopError): void => {
    if (stopped !== undefined) return;
    stopped = e;
    if (pid !== undefined) void cancelBackend(config, pid);
  };
  const deadline = setTimeout(
    () =>
      stop(
        new StopError(
          'ExecutionDurationExceeded',
          `the run exceeded executionDuration (${spec.executionDurationSeconds} s)`,
        ),
      ),
    spec.executionDurationSeconds * 1000,
  );
  const onAbort = (): void =>
    stop(new StopError('Aborted', 'the run was stopped (ABORT or pod termination)'));
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted === true) onAbort();
  try {
    await client.connect();
    const info = await client.query<{ pid: number; v: string }>(
      'SELECT pg_backend_pid() AS pid, current_setting($1) AS v',
      ['server_version'],
    );
    pid = info.rows[0]?.pid;
    const serverVersion = info.rows[0]?.v ?? '';
    if (stopped !== undefined) throw stopped;
    opts.emit({ event: 'started', backendPid: pid ?? 0, serverVersion });
    const interval = opts.progressIntervalMs ?? 1000;
    let last = -Infinity;
    const onProgress = (p: { rows: number; bytes: number }): void => {
      const t = now().getTime();
      if (t - last < interval) return;
      last = t;
      opts.emit({ event: 'progress', ...p });
    };
    const { columns, summary, overflow } = await stream(spec, client, config, () => stopped, onProgress);
    const manifest: Manifest = {
      query: spec.query,
      querySha256: createHash('sha256').update(spec.query).digest('hex'),
      catalog: spec.catalog,
      server: { version: serverVersion },
      format: spec.output.format,
      compression: spec.output.compression,
      maxRecords: spec.maxRecords ?? null,
      rows: summary.rows,
      overflow,
      bytes: summary.bytes,
      files: summary.files,
      columns: columns.map(({ width: _w, ...c }) => c),
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      runner: { name: '@skyport/query-runner', version: RUNNER_VERSION },
    };
    await writeJson(dir, manifestName(stem), manifest);
    opts.emit({
      event: 'completed',
      rows: summary.rows,
      bytes: summary.bytes,
      overflow,
      maxRssBytes: peakRssBytes(),
    });
    return manifest;
  } catch (err) {
    // A cancel by the deadline surfaces as the server's 57014 (or a broken read): report the deadline.
    // statement_timeout (= executionDuration, over the whole COPY) may fire before the run's own timer.
    const elapsed = now().getTime() - startedAt.getTime();
    if (
      stopped === undefined &&
      err instanceof QueryError &&
      err.code === '57014' &&
      elapsed >= spec.executionDurationSeconds * 1000
    )
      throw new StopError(
        'ExecutionDurationExceeded',
        `the run exceeded executionDuration (${spec.executionDurationSeconds} s)`,
      );
    throw stopped ?? err;
  } finally {
    clearTimeout(deadline);
    opts.signal?.removeEventListener('abort', onAbort);
    // Closing the connection ends the backend even when it sat idle in the transaction.
    await client.end().catch(() => undefined);
  }
}

/** What streaming the query into the result files gave. */
interface Streamed {
  readonly columns: readonly Column[];
  readonly summary: ResultSummary;
  readonly overflow: boolean;
}

/**
 * Streams the query into the result files: CSV and TSV as PostgreSQL's own COPY text (csv-copy.ts,
 * csv-output.ts), every other format — and a query COPY cannot take — through the reader's rows and a writer.
 */
async function stream(
  spec: JobSpec,
  client: pg.Client,
  config: pg.ClientConfig,
  stopped: () => StopError | undefined,
  onProgress: (p: { rows: number; bytes: number }) => void,
): Promise<Streamed> {
  const format = spec.output.format;
  const limits = {
    statementTimeoutMs: spec.executionDurationSeconds * 1000,
    ...(spec.maxRecords !== undefined && { maxRecords: spec.maxRecords }),
  };
  if (format === 'csv' || format === 'tsv') {
    const c = await openCsvCopy(client, {
      sql: spec.query,
      ...limits,
      delimiter: format === 'csv' ? ',' : '\t',
    });
    if (c !== undefined) {
      try {
        const columns = withComments(c.columns, c.sources, await commentsOf(config, c.sources));
        const check = (): void => {
          const s = stopped();
          if (s !== undefined) throw s;
        };
        const out = await writeCsvResult(c.chunks, { ...spec.output, format, ...limits, onProgress }, check);
        return { columns, ...out };
      } finally {
        await c.close();
      }
    }
  }
  const q = await openQuery(client, {
    sql: spec.query,
    ...limits,
    ...(spec.batchRows !== undefined && { batchRows: spec.batchRows }),
  });
  try {
    const columns = withComments(q.columns, q.sources, await commentsOf(config, q.sources));
    // Loaded here, not at start: the writers' libraries (Parquet, HDF5) are not needed by the CSV/TSV path.
    const { writeResult } = await import('./output.js');
    const summary = await writeResult(
      columns,
      guarded(q.batches, stopped, spec.output.format),
      () => q.status(),
      {
        ...spec.output,
        onProgress,
      },
    );
    return { columns, summary, overflow: q.status().overflow };
  } finally {
    await q.close();
  }
}

/** Batches of rows between full garbage collections (heap.ts): about 32,000 rows at the default batch size. */
const GC_BATCHES = 8;
/**
 * Batches of tuples read as they are between full collections (their garbage is the batches' few objects),
 * or fewer once they held GC_TUPLE_BYTES: a writer's output per batch is garbage outside the heap (rows of
 * 51 KB text to Parquet: peak RSS 139-143 MiB at 16 MiB, 118-133 at 8, 125 at 4, by getrusage; memory.int.test.ts).
 */
const GC_TUPLE_BATCHES = 64;
const GC_TUPLE_BYTES = 8 << 20;

/**
 * The batches, refusing to go on once the run is stopped (the backend may be idle between fetches), with
 * a full garbage collection every GC_BATCHES batches that made rows of values (rows from the cursor, or
 * tuples a writer decodes into rows: `tuples` false in formats/info.ts), every GC_TUPLE_BATCHES batches of
 * tuples a writer reads as they are (the decoder reuses its buffers: little garbage, but V8 would let the
 * old generation grow by tens of MB before collecting it).
 */
async function* guarded(
  batches: AsyncIterable<Batch>,
  stopped: () => StopError | undefined,
  format: Format,
): AsyncGenerator<Batch> {
  let n = 0;
  let bytes = 0;
  for await (const b of batches) {
    const s = stopped();
    if (s !== undefined) throw s;
    yield b;
    n++;
    const tuples = b instanceof TupleBatch && FORMAT_INFO[format].tuples;
    if (tuples) bytes += b.bytes.length;
    if (n >= (tuples ? GC_TUPLE_BATCHES : GC_BATCHES) || bytes >= GC_TUPLE_BYTES) {
      collectGarbage();
      n = bytes = 0;
    }
  }
}

/** Column comments, read on a second connection: the first is busy with the query. */
async function commentsOf(
  config: pg.ClientConfig,
  sources: Parameters<typeof readComments>[1],
): Promise<Map<string, string>> {
  if (sources.every((s) => s === undefined)) return new Map();
  const c = new pg.Client(config);
  try {
    await c.connect();
    return await readComments(c, sources);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** pg_cancel_backend(pid) from a fresh connection; a failure here is left to the connection close. */
async function cancelBackend(config: pg.ClientConfig, pid: number): Promise<void> {
  const c = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // The main connection's close ends the backend anyway.
  } finally {
    await c.end().catch(() => undefined);
  }
}
