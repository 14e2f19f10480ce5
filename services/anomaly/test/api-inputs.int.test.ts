// Issue 10's wrong answers, through the HTTP API on a real redis-server with a real worker: columns map by name on
// every scoring path, each fit gets its own model record, the CSV header rule, values outside float64, duplicate
// names, unloadable model sizes, long lines, and Content-Encoding / charset.

import { request, type IncomingMessage } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fit, score, type ForestParams } from '../src/engine/index.js';
import { connectRedis } from '../src/store/redis.js';
import { Store, type ModelMeta } from '../src/store/store.js';
import { RedisServer } from './support/redis-server.js';
import {
  as,
  freshPrefix,
  gaussianData,
  startApiProc,
  startWorker,
  TOKENS,
  waitJob,
  type ApiProc,
  type Proc,
} from './support/procs.js';

const COLS = 3;
const ROWS = 400;
const SYNC_ROWS = 100;
const PARAMS: ForestParams = { ntrees: 20, sampleSize: 64, extensionLevel: 0, seed: 123 };

let redis: RedisServer;
let prefix: string;
let api: ApiProc;
let worker: Proc;
let alice: ReturnType<typeof as>;
let data: Float64Array;
let datasetId: string;
let first: { id: string; threshold: number; contentHash: string };
/** Engine scores of every row, in the a,b,c order the model was fitted on. */
let expected: Float64Array;

/** CSV of `rows` rows of `m` with the columns written in `order` (indices into a,b,c) under `names`. */
function csv(m: Float64Array, rows: number, names: string[] | null, order = [0, 1, 2]): string {
  const lines = names === null ? [] : [names.join(',')];
  for (let r = 0; r < rows; r++) lines.push(order.map((c) => m[r * COLS + c]).join(','));
  return lines.join('\n') + '\n';
}

async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const b = JSON.parse(text) as { code: string; detail: Record<string, unknown> };
  expect(b.code, text).toBe(code);
  return b.detail;
}

const post = (
  path: string,
  contentType: string,
  body: string | Uint8Array,
  extra: Record<string, string> = {},
) => alice(path, { method: 'POST', headers: { 'content-type': contentType, ...extra }, body });

async function fitModel(body: object): Promise<Record<string, unknown>> {
  const res = await post('/v1/models', 'application/json', JSON.stringify(body));
  expect(res.status, await res.clone().text()).toBe(202);
  const job = await waitJob(alice, ((await res.json()) as { id: string }).id);
  expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
  const result = job['result'] as { modelId: string; name: string; version: number };
  const meta = (await (await alice(`/v1/models/${result.modelId}`)).json()) as Record<string, unknown>;
  return { ...meta, result };
}

async function uploadCsv(text: string, query = ''): Promise<{ id: string; columns: string[] | null }> {
  const res = await post(`/v1/datasets${query}`, 'text/csv', text);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; columns: string[] | null };
}

async function syncScores(res: Response): Promise<number[]> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { scores: number[] }).scores;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  prefix = freshPrefix();
  api = await startApiProc(redis.url, prefix, {
    CHUNK_ROWS: '1000',
    MAX_SYNC_ROWS: String(SYNC_ROWS),
    MAX_UPLOAD_BYTES: String(16 * 1024 * 1024),
  });
  worker = await startWorker(redis.url, prefix, { CHUNK_ROWS: '1000' });
  alice = as(TOKENS.alice, api.url);
  data = gaussianData(ROWS, COLS, 5);
  datasetId = (await uploadCsv(csv(data, ROWS, ['a', 'b', 'c']))).id;
  const m = await fitModel({ datasetId, params: PARAMS, name: 'first', contamination: 0.01 });
  first = {
    id: m['id'] as string,
    threshold: m['threshold'] as number,
    contentHash: m['contentHash'] as string,
  };
  expected = score(fit({ data, rows: ROWS, cols: COLS }, PARAMS), { data, rows: ROWS, cols: COLS });
});

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await api?.proc.stop('SIGKILL');
  await redis?.stop();
});

describe('item 1: scoring maps columns by name', () => {
  const head = (): number[] => Array.from(expected.subarray(0, 5));

  it('scores a CSV header and NDJSON objects in any column order like the fitted order', async () => {
    const path = `/v1/models/${first.id}/score`;
    expect(await syncScores(await post(path, 'text/csv', csv(data, 5, ['a', 'b', 'c'])))).toEqual(head());
    expect(await syncScores(await post(path, 'text/csv', csv(data, 5, ['c', 'b', 'a'], [2, 1, 0])))).toEqual(
      head(),
    );
    const objects = Array.from({ length: 5 }, (_, r) =>
      JSON.stringify({ c: data[r * COLS + 2], b: data[r * COLS + 1], a: data[r * COLS] }),
    ).join('\n');
    expect(await syncScores(await post(path, 'application/x-ndjson', objects))).toEqual(head());
  });

  it('refuses unknown and missing names with a 400 naming them', async () => {
    const path = `/v1/models/${first.id}/score`;
    const d = await expectError(
      await post(path, 'text/csv', csv(data, 2, ['x', 'y', 'z'])),
      400,
      'UnknownColumn',
    );
    expect(d).toMatchObject({ unknown: ['x', 'y', 'z'], expected: ['a', 'b', 'c'] });
    const m = await expectError(
      await post(path, 'application/x-ndjson', '{"a":1,"b":2}\n'),
      400,
      'MissingColumn',
    );
    expect(m).toMatchObject({ columnName: 'c' });
  });

  it('maps by name on the job path (a body over MAX_SYNC_ROWS) and for a stored dataset', async () => {
    const reordered = csv(data, ROWS, ['b', 'c', 'a'], [1, 2, 0]);
    const res = await post(`/v1/models/${first.id}/score`, 'text/csv', reordered);
    expect(res.status).toBe(202);
    const job = await waitJob(alice, ((await res.json()) as { id: string }).id);
    expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
    const lines = (await (await alice(`/v1/jobs/${String(job['id'])}/results`)).text()).trim().split('\n');
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from(expected));

    const ds = await uploadCsv(reordered);
    const sd = await post(
      `/v1/models/${first.id}/score-dataset`,
      'application/json',
      JSON.stringify({ datasetId: ds.id }),
    );
    expect(sd.status).toBe(202);
    const j2 = await waitJob(alice, ((await sd.json()) as { id: string }).id);
    const out = new Uint8Array(
      await (await alice(`/v1/jobs/${String(j2['id'])}/results?format=binary`)).arrayBuffer(),
    );
    expect(Array.from(new Float64Array(out.buffer, out.byteOffset, out.byteLength / 8))).toEqual(
      Array.from(expected),
    );

    const other = await uploadCsv(csv(data, 10, ['x', 'y', 'z']));
    await expectError(
      await post(
        `/v1/models/${first.id}/score-dataset`,
        'application/json',
        JSON.stringify({ datasetId: other.id }),
      ),
      400,
      'UnknownColumn',
    );
  });
});

describe('item 2: every fit gets its own model record', () => {
  it('keeps the name, version, threshold and contamination of a fit whose forest equals an earlier one', async () => {
    const second = await fitModel({ datasetId, params: PARAMS, name: 'second', contamination: 0.2 });
    expect(second['result']).toMatchObject({ name: 'second', version: 1 });
    expect(second).toMatchObject({
      name: 'second',
      version: 1,
      contamination: 0.2,
      contentHash: first.contentHash,
    });
    expect(second['id']).not.toBe(first.id);
    expect(second['threshold']).toBeLessThan(first.threshold);
    const fixed = await fitModel({ datasetId, params: PARAMS, name: 'second', threshold: 0.9 });
    expect(fixed).toMatchObject({ name: 'second', version: 2, threshold: 0.9, thresholdSource: 'explicit' });
    // The first record is unchanged, and the shared forest scores the same through every record.
    expect(await (await alice(`/v1/models/${first.id}`)).json()).toMatchObject({ name: 'first', version: 1 });
    const bytes = async (id: string): Promise<Buffer> =>
      Buffer.from(await (await alice(`/v1/models/${id}/binary`)).arrayBuffer());
    expect((await bytes(String(fixed['id']))).equals(await bytes(first.id))).toBe(true);
  });

  it('records the dataset and columns of the fit, not of an earlier fit of the same values', async () => {
    const renamed = await uploadCsv(csv(data, ROWS, ['x', 'y', 'z']));
    const m = await fitModel({ datasetId: renamed.id, params: PARAMS, name: 'renamed' });
    expect(m).toMatchObject({
      datasetId: renamed.id,
      columns: ['x', 'y', 'z'],
      contentHash: first.contentHash,
    });
  });
});

describe('items 3–5: the CSV header rule, values outside float64, duplicate names', () => {
  it('refuses a first row that is data unless header=absent, and then keeps it', async () => {
    const d = await expectError(
      await post('/v1/datasets', 'text/csv', '1,,3\n4,5,6\n7,8,9\n'),
      400,
      'InvalidHeader',
    );
    expect(d).toMatchObject({ column: 0, line: 1 });
    const e = await expectError(
      await post('/v1/datasets?header=absent', 'text/csv', '1,,3\n4,5,6\n7,8,9\n'),
      400,
      'InvalidNumber',
    );
    expect(e).toMatchObject({ row: 0, column: 1, line: 1 });
    await expectError(await post('/v1/datasets', 'text/csv', '1.2.3,4,5\n6,7,8\n'), 400, 'InvalidHeader');
    const ok = await post('/v1/datasets?header=absent', 'text/csv', '1.5,2,3\n4,5,6\n7,8,9\n');
    expect(await ok.json()).toMatchObject({ rows: 3, cols: 3, columns: null });
    const q = await expectError(
      await post('/v1/datasets?header=maybe', 'text/csv', 'a\n1\n'),
      400,
      'InvalidRequest',
    );
    expect(q).toMatchObject({ field: 'header' });
  });

  it('refuses 1e309 at upload with its row and column (CSV and NDJSON)', async () => {
    const d = await expectError(
      await post('/v1/datasets', 'text/csv', 'a,b\n1,2\n3,1e309\n'),
      400,
      'NonFiniteValue',
    );
    expect(d).toMatchObject({ row: 1, column: 1, columnName: 'b', line: 3 });
    const n = await expectError(
      await post('/v1/datasets', 'application/x-ndjson', '[1,2]\n[-1e309,2]\n'),
      400,
      'NonFiniteValue',
    );
    expect(n).toMatchObject({ row: 1, column: 0 });
  });

  it('refuses duplicate column names', async () => {
    const d = await expectError(
      await post('/v1/datasets', 'text/csv', 'x,x,y\n1,2,3\n'),
      400,
      'DuplicateColumn',
    );
    expect(d).toMatchObject({ columnName: 'x', columns: [0, 1] });
  });
});

describe('item 5: a model stored with repeated names before they were refused', () => {
  it('takes positional input only: {"x":1,"y":2} is refused, not scored as [1,1,2]', async () => {
    const conn = connectRedis(redis.url, false);
    const store = new Store(conn, prefix);
    const meta = (await store.getModelMeta('alice', first.id)) as ModelMeta;
    const bytes = (await store.getModelBytes('alice', first.id)) as Buffer;
    const legacy = await store.putModel('alice', bytes, {
      ...meta,
      id: 'legacy-xxy',
      columns: ['x', 'x', 'y'],
    });
    conn.disconnect();
    const path = `/v1/models/${legacy.id}/score`;
    await expectError(await post(path, 'application/x-ndjson', '{"x":1,"y":2}\n'), 400, 'WrongWidth');
    expect(await syncScores(await post(path, 'application/x-ndjson', '[1,2,3]\n'))).toHaveLength(1);
    const streamed = await post(`/v1/models/${legacy.id}/stream`, 'application/x-ndjson', '{"x":1,"y":2}\n');
    expect(JSON.parse((await streamed.text()).trim())).toMatchObject({ code: 'WrongWidth' });
  });
});

describe('item 6: models too large to load are refused when the fit is requested', () => {
  it('answers 400 with the projected size and the limit for 1,500 trees × d 100 × e 99', async () => {
    const wide = gaussianData(300, 100, 9);
    const lines = [Array.from({ length: 100 }, (_, c) => `f${c}`).join(',')];
    for (let r = 0; r < 300; r++) lines.push(Array.from(wide.subarray(r * 100, (r + 1) * 100)).join(','));
    const ds = await uploadCsv(lines.join('\n') + '\n');
    const res = await post(
      '/v1/models',
      'application/json',
      JSON.stringify({ datasetId: ds.id, params: { ntrees: 1500, extensionLevel: 99 } }),
    );
    const d = await expectError(res, 400, 'ModelTooLarge');
    expect(d).toMatchObject({ field: '/params/ntrees', limitBytes: 64 * 1024 * 1024 });
    expect(d['projectedBytes']).toBeGreaterThan(64 * 1024 * 1024);
    expect(d['maxTrees']).toBeLessThan(1500);
    const jobs = (await (await alice('/v1/jobs?kind=fit')).json()) as { items: unknown[] };
    const over = await post(
      '/v1/models',
      'application/json',
      JSON.stringify({ datasetId, params: { ntrees: 20_000 } }),
    );
    expect(await expectError(over, 400, 'InvalidRequest')).toMatchObject({ field: '/params/ntrees' });
    // Neither refusal queued a job.
    expect(((await (await alice('/v1/jobs?kind=fit')).json()) as { items: unknown[] }).items).toHaveLength(
      jobs.items.length,
    );
  });
});

describe('item 6: a ψ the engine cannot build', () => {
  it('is refused when the fit is requested, before any projection', async () => {
    const rows = 2 ** 20 + 1;
    const x = gaussianData(rows, 1, 3);
    const up = await post('/v1/datasets', 'application/octet-stream', new Uint8Array(x.buffer), {
      'x-shape': `${rows},1`,
    });
    expect(up.status).toBe(201);
    const ds = (await up.json()) as { id: string };
    const res = await post(
      '/v1/models',
      'application/json',
      JSON.stringify({ datasetId: ds.id, params: { ntrees: 1, sampleSize: rows } }),
    );
    expect(await expectError(res, 400, 'InvalidParameter')).toMatchObject({ field: '/params/sampleSize' });
  });
});

describe('item 7: long lines', () => {
  const long = 'a,b,c\n1,2,3\n' + '1'.repeat(2 * 1024 * 1024) + ',3,4\n';

  it('refuses a line over 1 MiB with 413 naming the line, on uploads and scoring', async () => {
    for (const path of ['/v1/datasets', `/v1/models/${first.id}/score`]) {
      const d = await expectError(await post(path, 'text/csv', long), 413, 'LineTooLong');
      expect(d).toMatchObject({ line: 3, limit: 1024 * 1024 });
    }
    const n = await expectError(
      await post('/v1/datasets', 'application/x-ndjson', `[1,2]\n[${'1'.repeat(1_100_000)}]\n`),
      413,
      'LineTooLong',
    );
    expect(n).toMatchObject({ line: 2 });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('lets a client streaming a 25 MB line finish sending and read the 413 (lingering close)', async () => {
    const whole = Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(25 << 20, 49), Buffer.from(',1\n')]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < whole.length; i += 65_536) c.enqueue(whole.subarray(i, i + 65_536));
          c.close();
        },
      });
      const res = await alice('/v1/datasets', {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body,
        duplex: 'half',
      });
      expect(await expectError(res, 413, 'LineTooLong')).toMatchObject({ line: 2 });
    }
  });

  it('closes the connection of a refused body still arriving 2 s after the response', async () => {
    const req = request(`${api.url}/v1/datasets`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${TOKENS.alice}` },
    });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.write('a,b\n' + '1'.repeat(1_100_000));
    });
    expect(res.statusCode).toBe(413);
    const answeredAt = Date.now();
    // Keep sending, as a client that ignores the answer would.
    const drip = setInterval(() => req.write('1'.repeat(1000)), 50);
    await new Promise<void>((resolve) => {
      req.once('error', () => resolve());
      req.socket?.once('close', () => resolve());
    });
    clearInterval(drip);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - answeredAt).toBeLessThan(10_000);
  });

  it('ends a stream with a LineTooLong line', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${api.url}/v1/models/${first.id}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKENS.alice}` },
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(`[1,2,3]\n[${'1'.repeat(1_100_000)}]\n`);
    });
    let text = '';
    for await (const b of res as AsyncIterable<Buffer>) text += b.toString();
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ row: 0 });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'LineTooLong', detail: { line: 2 } });
  });
});

describe('item 8: Content-Encoding and charset', () => {
  const body = (): string => csv(data, 5, ['a', 'b', 'c']);

  it('decodes gzip, deflate and br bodies on uploads and scoring', async () => {
    for (const [enc, bytes] of [
      ['gzip', gzipSync(body())],
      ['deflate', deflateSync(body())],
      ['br', brotliCompressSync(body())],
    ] as const) {
      const up = await post('/v1/datasets', 'text/csv', bytes, { 'content-encoding': enc });
      expect(await up.json()).toMatchObject({ rows: 5, cols: 3, columns: ['a', 'b', 'c'] });
      const s = await post(`/v1/models/${first.id}/score`, 'text/csv', bytes, { 'content-encoding': enc });
      expect(await syncScores(s)).toEqual(Array.from(expected.subarray(0, 5)));
    }
  });

  it('answers 415 naming an unsupported coding or charset, and 400 for a corrupt body', async () => {
    const c = await expectError(
      await post('/v1/datasets', 'text/csv', body(), { 'content-encoding': 'compress' }),
      415,
      'UnsupportedContentEncoding',
    );
    expect(c).toMatchObject({ encoding: 'compress' });
    const s = await expectError(
      await post('/v1/datasets', 'text/csv; charset=utf-16', body()),
      415,
      'UnsupportedCharset',
    );
    expect(s).toMatchObject({ charset: 'utf-16' });
    await expectError(
      await post('/v1/datasets', 'text/csv', body(), { 'content-encoding': 'gzip' }),
      400,
      'InvalidContentEncoding',
    );
  });

  it('answers a located error in a large compressed body while the rest is still arriving', async () => {
    const rows = ['a,b,c', '1,2,3', '4,x,6', ...Array.from({ length: 200_000 }, (_, i) => `${i},${i},${i}`)];
    const bytes = gzipSync(rows.join('\n') + '\n');
    const d = await expectError(
      await post('/v1/datasets', 'text/csv', bytes, { 'content-encoding': 'gzip' }),
      400,
      'InvalidNumber',
    );
    expect(d).toMatchObject({ row: 1, column: 1, line: 3 });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('decodes latin1 text', async () => {
    const bytes = Buffer.from('café,b\n1,2\n', 'latin1');
    const up = await post('/v1/datasets', 'text/csv; charset=latin1', bytes);
    expect(await up.json()).toMatchObject({ rows: 1, columns: ['café', 'b'] });
    const iso = await post('/v1/datasets', 'text/csv; charset=ISO-8859-1', bytes);
    expect(await iso.json()).toMatchObject({ columns: ['café', 'b'] });
  });
});
