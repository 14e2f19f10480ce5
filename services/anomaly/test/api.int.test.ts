// The HTTP API on a real redis-server with a real worker: bad input gets located 4xx errors and the server
// stays up; tenants are isolated; streaming, SSE and webhook alerts work end to end.

import { createHmac } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fit, score, type ForestParams } from '../src/engine/index.js';
import { freePort, RedisServer } from './support/redis-server.js';
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
import { openSse } from './support/sse.js';

const COLS = 4;
const ROWS = 3000;
const PARAMS: ForestParams = { ntrees: 50, sampleSize: 128, extensionLevel: 0, seed: 3 };
const MAX_UPLOAD = 256 * 1024;

let redis: RedisServer;
let api: ApiProc;
let worker: Proc;
let workerMetricsPort: number;
let alice: ReturnType<typeof as>;
let bob: ReturnType<typeof as>;
let data: Float64Array;
let datasetId: string;
let modelId: string;
let threshold: number;

interface Hit {
  readonly body: { type: string; alert: { score: number; index: number; modelId: string } };
  readonly raw: string;
  readonly attempt: string | undefined;
  readonly signature: string | undefined;
}
let hook: Server;
let hookUrl: string;
const hits: Hit[] = [];
let failFirst = true;

function toCsv(m: Float64Array, rows: number, cols: number, header: boolean): string {
  const lines = header ? [Array.from({ length: cols }, (_, c) => `f${c}`).join(',')] : [];
  for (let r = 0; r < rows; r++) lines.push(Array.from(m.subarray(r * cols, (r + 1) * cols)).join(','));
  return lines.join('\n') + '\n';
}

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const b of req as AsyncIterable<Buffer>) s += b.toString();
  return s;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  const prefix = freshPrefix();
  hook = createServer((req, res) => {
    void body(req).then((b) => {
      // The first delivery fails with 503 so the test sees the retry (attempt 2) arrive.
      if (failFirst) {
        failFirst = false;
        res.writeHead(503).end();
        return;
      }
      hits.push({
        body: JSON.parse(b) as Hit['body'],
        raw: b,
        attempt: req.headers['x-skyport-attempt'] as string | undefined,
        signature: req.headers['x-skyport-signature'] as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  api = await startApiProc(redis.url, prefix, {
    CHUNK_ROWS: '1000',
    MAX_SYNC_ROWS: '1000',
    MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_BACKOFF_MS: '50',
  });
  workerMetricsPort = await freePort();
  worker = await startWorker(redis.url, prefix, {
    CHUNK_ROWS: '1000',
    METRICS_PORT: String(workerMetricsPort),
  });
  alice = as(TOKENS.alice, api.url);
  bob = as(TOKENS.bob, api.url);

  data = gaussianData(ROWS, COLS, 21, 0);
  const up = await alice('/v1/datasets', {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: toCsv(data, ROWS, COLS, true),
  });
  expect(up.status).toBe(201);
  const ds = (await up.json()) as { id: string; rows: number; cols: number; columns: string[] };
  expect(ds).toMatchObject({ rows: ROWS, cols: COLS, columns: ['f0', 'f1', 'f2', 'f3'] });
  datasetId = ds.id;
  const fr = await alice('/v1/models', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ datasetId, params: PARAMS, threshold: 0.62, name: 'survey' }),
  });
  expect(fr.status).toBe(202);
  const job = await waitJob(alice, ((await fr.json()) as { id: string }).id);
  expect(job['phase'], JSON.stringify(job)).toBe('COMPLETED');
  modelId = (job['result'] as { modelId: string }).modelId;
  threshold = 0.62;
});

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await api?.proc.stop('SIGKILL');
  hook?.closeAllConnections();
  await new Promise((r) => hook?.close(r));
  await redis?.stop();
});

/** Scores one point synchronously (alerts are published for points at or above the threshold). */
async function sendPoint(p: number[]): Promise<number> {
  const r = (await (
    await alice(`/v1/models/${modelId}/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [p] }),
    })
  ).json()) as { scores: number[] };
  return r.scores[0]!;
}

async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const b = JSON.parse(text) as { error: string; code: string; detail: Record<string, unknown> };
  expect(b.code, text).toBe(code);
  expect(typeof b.error).toBe('string');
  return b.detail;
}

async function stillUp(): Promise<void> {
  const h = await fetch(`${api.url}/healthz`);
  expect(h.status).toBe(200);
  expect(api.proc.exited).toBe(false);
}

describe('malformed input', () => {
  type Extra = Record<string, string>;
  const post = (ct: string, b: string | Buffer, extra: Extra = {}, q = ''): Promise<Response> =>
    alice(`/v1/datasets${q}`, { method: 'POST', headers: { 'content-type': ct, ...extra }, body: b });

  it('names the row and column of a bad CSV cell', async () => {
    const d = await expectError(await post('text/csv', 'a,b,c\n1,2,3\n4,x5,6\n'), 400, 'InvalidNumber');
    expect(d).toMatchObject({ row: 1, column: 1, line: 3, columnName: 'b' });
    await stillUp();
  });

  it('rejects NaN with its location', async () => {
    const d = await expectError(
      await post('text/csv', '1,2\n3,NaN\n', {}, '?header=absent'),
      400,
      'NonFiniteValue',
    );
    expect(d).toMatchObject({ row: 1, column: 1, line: 2 });
    const b = new Float64Array([1, 2, 3, Number.NaN]);
    const d2 = await expectError(
      await post('application/octet-stream', Buffer.from(b.buffer), { 'x-shape': '2,2' }),
      400,
      'NonFiniteValue',
    );
    expect(d2).toMatchObject({ row: 1, column: 1 });
    await stillUp();
  });

  it('rejects a row of the wrong width', async () => {
    const d = await expectError(
      await post('text/csv', '1,2,3\n4,5,6\n7,8\n', {}, '?header=absent'),
      400,
      'WrongWidth',
    );
    expect(d).toMatchObject({ row: 2, line: 3, expected: 3, got: 2 });
    const d2 = await expectError(await post('application/x-ndjson', '[1,2]\n[3,4,5]\n'), 400, 'WrongWidth');
    expect(d2).toMatchObject({ row: 1, line: 2 });
    const d3 = await expectError(
      await post('application/x-ndjson', '{"a":1,"b":2}\n{"a":3}\n'),
      400,
      'MissingColumn',
    );
    expect(d3).toMatchObject({ row: 1, column: 1, columnName: 'b' });
    await stillUp();
  });

  it('rejects a raw upload whose length does not match X-Shape', async () => {
    const b = new Float64Array(5);
    await expectError(
      await post('application/octet-stream', Buffer.from(b.buffer), { 'x-shape': '3,2' }),
      400,
      'ShapeMismatch',
    );
    await expectError(await post('application/octet-stream', Buffer.from(b.buffer)), 400, 'MissingShape');
    await stillUp();
  });

  it('rejects an oversized body with 413, with and without Content-Length', async () => {
    const big = '1,2,3\n'.repeat(Math.ceil((MAX_UPLOAD * 2) / 6));
    await expectError(await post('text/csv', big, {}, '?header=absent'), 413, 'PayloadTooLarge');
    // A chunked body has no Content-Length: the limit is enforced while streaming.
    const enc = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < enc.length; i += 16_384) c.enqueue(enc.subarray(i, i + 16_384));
        c.close();
      },
    });
    const res = await alice('/v1/datasets?header=absent', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: stream,
      duplex: 'half',
    });
    await expectError(res, 413, 'PayloadTooLarge');
    const list = (await (await alice('/v1/datasets')).json()) as { items: { id: string }[] };
    expect(list.items.map((i) => i.id)).toEqual([datasetId]); // the partial upload left nothing behind
    await stillUp();
  });

  it('rejects an unsupported content type, an unknown model and bad fit params', async () => {
    await expectError(await post('text/plain', '1,2\n'), 415, 'UnsupportedMediaType');
    const d = await expectError(
      await alice('/v1/models/nope/score', {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: '1,2,3,4\n',
      }),
      404,
      'NotFound',
    );
    expect(d).toMatchObject({ modelId: 'nope' });
    const e = await expectError(
      await alice('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ datasetId, params: { ntrees: 0 } }),
      }),
      400,
      'InvalidRequest',
    );
    expect(e).toMatchObject({ field: '/params/ntrees' });
    const x = await expectError(
      await alice('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ datasetId, params: { extensionLevel: 4 } }),
      }),
      400,
      'ExtensionLevelOutOfRange',
    );
    expect(x).toMatchObject({ field: '/params/extensionLevel' });
    await expectError(
      await alice('/v1/models', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"datasetId":',
      }),
      400,
      'InvalidJson',
    );
    await stillUp();
  });

  it('rejects a score body of the wrong width for the model', async () => {
    const d = await expectError(
      await alice(`/v1/models/${modelId}/score?header=absent`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: '1,2,3\n',
      }),
      400,
      'WrongWidth',
    );
    expect(d).toMatchObject({ row: 0, expected: COLS, got: 3 });
    await stillUp();
  });

  it('answers 401 to a missing or unknown token', async () => {
    expect(await expectError(await fetch(`${api.url}/v1/models`), 401, 'Unauthorized')).toMatchObject({
      field: 'Authorization',
    });
    await expectError(await as('not-a-real-token-000000', api.url)('/v1/models'), 401, 'Unauthorized');
    await stillUp();
  });
});

describe('tenancy', () => {
  it('hides one tenant’s datasets, models and jobs from another (404)', async () => {
    expect((await alice(`/v1/models/${modelId}`)).status).toBe(200);
    await expectError(await bob(`/v1/models/${modelId}`), 404, 'NotFound');
    await expectError(await bob(`/v1/models/${modelId}/binary`), 404, 'NotFound');
    await expectError(
      await bob(`/v1/models/${modelId}/score`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: '1,2,3,4\n',
      }),
      404,
      'NotFound',
    );
    await expectError(await bob(`/v1/datasets/${datasetId}`), 404, 'NotFound');
    // Ids are checked before they become key names: a crafted id cannot reach a sibling key.
    await expectError(await alice(`/v1/models/${modelId}:meta/binary`), 404, 'NotFound');
    await expectError(await alice(`/v1/datasets/${datasetId}:chunk:0`), 404, 'NotFound');
    const list = (await (await bob('/v1/models')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const fr = await bob('/v1/models', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId }),
    });
    await expectError(fr, 404, 'NotFound');
  });
});

describe('models and scoring', () => {
  it('records immutable metadata with the effective ψ and a version per name', async () => {
    const meta = (await (await alice(`/v1/models/${modelId}`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      id: modelId,
      name: 'survey',
      version: 1,
      dims: COLS,
      effectiveSampleSize: 128,
      threshold,
      thresholdSource: 'explicit',
      columns: ['f0', 'f1', 'f2', 'f3'],
      trainingRows: ROWS,
    });
    expect(modelId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('scores small batches synchronously as JSON, CSV and float64, equal to the engine', async () => {
    const local = fit({ data, rows: ROWS, cols: COLS }, PARAMS);
    const rows = 50;
    const sample = data.slice(0, rows * COLS);
    const expected = score(local, { data: sample, rows, cols: COLS });
    const j = (await (
      await alice(`/v1/models/${modelId}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          data: Array.from({ length: rows }, (_, r) => Array.from(sample.subarray(r * COLS, (r + 1) * COLS))),
        }),
      })
    ).json()) as { scores: number[] };
    expect(j.scores).toEqual(Array.from(expected));
    const csv = await (
      await alice(`/v1/models/${modelId}/score?header=absent`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'text/csv' },
        body: toCsv(sample, rows, COLS, false),
      })
    ).text();
    expect(
      csv
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => Number(l.split(',')[0])),
    ).toEqual(Array.from(expected));
    const bin = await alice(`/v1/models/${modelId}/score`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'x-shape': `${rows},${COLS}`,
        accept: 'application/octet-stream',
      },
      body: Buffer.from(sample.buffer),
    });
    const got = new Float64Array(await bin.arrayBuffer());
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('turns a large score request into a job with progress and CSV results', async () => {
    const res = await alice(`/v1/models/${modelId}/score?header=absent`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: toCsv(data, ROWS, COLS, false),
    });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { id: string; phase: string; tasks: number };
    expect(['QUEUED', 'EXECUTING', 'COMPLETED']).toContain(queued.phase);
    expect(queued.tasks).toBe(3);
    const job = await waitJob(alice, queued.id);
    expect(job).toMatchObject({ phase: 'COMPLETED', progress: 1, tasksDone: 3 });
    const csv = await (await alice(`/v1/jobs/${queued.id}/results`)).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('score,anomaly');
    expect(lines).toHaveLength(ROWS + 1);
    const local = score(fit({ data, rows: ROWS, cols: COLS }, PARAMS), { data, rows: ROWS, cols: COLS });
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from(local));
    await expectError(await bob(`/v1/jobs/${queued.id}`), 404, 'NotFound');
    // The tenant's job list: newest first, filtered by phase and kind; another tenant's list never shows it.
    type Listed = { items: { id: string; phase: string; kind: string }[] };
    const list = async (call: typeof alice, q: string): Promise<string[]> =>
      ((await (await call(`/v1/jobs${q}`)).json()) as Listed).items.map((j) => j.id);
    expect((await list(alice, '?last=1'))[0]).toBe(queued.id);
    expect(await list(alice, '?phase=completed&kind=score')).toContain(queued.id);
    expect(await list(alice, '?phase=EXECUTING,QUEUED')).not.toContain(queued.id);
    expect(await list(alice, '?kind=fit')).not.toContain(queued.id);
    expect(await list(bob, '')).not.toContain(queued.id);
    await expectError(await alice('/v1/jobs?last=0'), 400, 'InvalidRequest');
  });

  it('serves the OpenAPI document and metrics', async () => {
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/datasets', '/v1/models', '/v1/models/{id}/stream', '/v1/jobs/{id}']),
    );
    expect(doc.components.schemas['FitRequest']).toMatchObject({ required: ['datasetId'] });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/skyport_anomaly_points_scored_total\{path="sync"\} [1-9]/);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    const w = `http://127.0.0.1:${workerMetricsPort}`;
    expect(await (await fetch(`${w}/metrics`)).text()).toMatch(
      /skyport_anomaly_worker_tasks_total\{kind="fit-block",outcome="done"\} [1-9]/,
    );
    expect((await fetch(`${w}/healthz`)).status).toBe(200);
    expect((await fetch(`${w}/readyz`)).status).toBe(200);
  });
});

describe('online scoring and notifications', () => {
  it('streams NDJSON scores back line by line while the request is still open', async () => {
    const local = fit({ data, rows: ROWS, cols: COLS }, PARAMS);
    // node:http, not fetch: fetch bodies are half-duplex (the response waits for the whole request).
    const req = request(`${api.url}/v1/models/${modelId}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKENS.alice}` },
    });
    const push = (s: string): void => void req.write(s);
    const end = (): void => void req.end();
    const resP = new Promise<IncomingMessage>((r, j) => {
      req.once('response', r);
      req.once('error', j);
    });
    push(`${JSON.stringify(Array.from(data.subarray(0, COLS)))}\n`);
    const res = await resP;
    expect(res.statusCode).toBe(200);
    const lines: string[] = [];
    let buf = '';
    let waiter: (() => void) | null = null;
    res.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      waiter?.();
    });
    const nextLine = async (): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 10_000;
      while (lines.length === 0) {
        if (Date.now() > deadline) throw new Error('no line within 10 s');
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 100);
        });
      }
      return JSON.parse(lines.shift()!) as Record<string, unknown>;
    };
    // The first answer arrives before the second point is even sent.
    const first = await nextLine();
    const expected = score(local, { data: data.subarray(0, 2 * COLS), rows: 2, cols: COLS });
    expect(first).toMatchObject({ row: 0, score: expected[0], modelId, modelVersion: 1 });
    push(`{"f0":${data[4]},"f1":${data[5]},"f2":${data[6]},"f3":${data[7]}}\n`);
    expect(await nextLine()).toMatchObject({ row: 1, score: expected[1] });
    push('[1,2]\n');
    expect(await nextLine()).toMatchObject({ code: 'WrongWidth', detail: { row: 2 } });
    end();
  });

  it('notifies SSE subscribers and webhooks for an anomalous point and not for a normal one', async () => {
    const reg = await alice(`/v1/models/${modelId}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hookUrl }),
    });
    expect(reg.status).toBe(201);
    const { secret } = (await reg.json()) as { secret: string };
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await (await alice(`/v1/models/${modelId}/webhooks`)).json()) as { items: object[] };
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).not.toHaveProperty('secret'); // shown once, at registration
    await expectError(
      await alice(`/v1/models/${modelId}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'ftp://127.0.0.1/x' }),
      }),
      400,
      'InvalidWebhookUrl',
    );
    await expectError(
      await alice(`/v1/models/${modelId}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://example.org/x' }),
      }),
      400,
      'WebhookHostNotAllowed',
    );

    const sse = await openSse(alice, `/v1/models/${modelId}/events`);
    const readUntil = sse.readUntil;
    expect(await readUntil((t) => t.includes(': subscribed'), 5000)).toBe(true);

    const normal = await sendPoint([0, 0, 0, 0]);
    expect(normal).toBeLessThan(threshold);
    // Nothing may arrive for the normal point.
    expect(await readUntil((t) => t.includes('event: anomaly'), 700)).toBe(false);
    expect(hits).toHaveLength(0);

    const weird = await sendPoint([9, -9, 9, -9]);
    expect(weird).toBeGreaterThanOrEqual(threshold);
    expect(await readUntil((t) => t.includes('event: anomaly'), 5000)).toBe(true);
    const dataLine = sse
      .text()
      .split('\n')
      .find((l) => l.startsWith('data: '))!;
    expect(JSON.parse(dataLine.slice(6))).toMatchObject({ modelId, score: weird, point: [9, -9, 9, -9] });
    sse.close();

    // The webhook's first delivery got a 503; the retry (attempt 2) carries the alert.
    const deadline = Date.now() + 10_000;
    while (hits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      attempt: '2',
      body: { type: 'anomaly', alert: { modelId, score: weird } },
    });
    expect(hits[0]!.signature).toBe(
      `sha256=${createHmac('sha256', secret).update(hits[0]!.raw).digest('hex')}`,
    );
  });
  it('replays what a reconnecting SSE client missed (Last-Event-ID), each alert once, then goes live', async () => {
    const first = await openSse(alice, `/v1/models/${modelId}/events`);
    expect(await first.readUntil((t) => t.includes(': subscribed'), 5000)).toBe(true);
    await sendPoint([8, -8, 8, -8]);
    expect(await first.readUntil((t) => t.includes('event: anomaly'), 5000)).toBe(true);
    const [seen] = first.ids();
    first.close();
    // Missed while disconnected.
    expect(await sendPoint([7, -9, 7, -9])).toBeGreaterThanOrEqual(threshold);
    expect(await sendPoint([9, -7, 9, -7])).toBeGreaterThanOrEqual(threshold);

    const again = await openSse(alice, `/v1/models/${modelId}/events`, { 'last-event-id': seen! });
    expect(await again.readUntil((t) => t.includes(': subscribed'), 5000)).toBe(true);
    const points = (): number[][] =>
      again
        .text()
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => (JSON.parse(l.slice(6)) as { point: number[] }).point);
    expect(points()).toEqual([
      [7, -9, 7, -9],
      [9, -7, 9, -7],
    ]);
    expect(again.ids()).not.toContain(seen);
    // Then live, as before.
    await sendPoint([9, 9, -9, -9]);
    expect(await again.readUntil(() => points().length === 3, 5000)).toBe(true);
    expect(points()[2]).toEqual([9, 9, -9, -9]);
    expect(new Set(again.ids()).size).toBe(3);
    again.close();

    // An id the model no longer keeps (or never had): everything kept is replayed, with a note.
    const unknown = await openSse(alice, `/v1/models/${modelId}/events`, {
      'last-event-id': 'no-such-alert',
    });
    expect(await unknown.readUntil((t) => t.includes(': subscribed'), 5000)).toBe(true);
    expect(unknown.text()).toMatch(/: event no-such-alert is not among the \d+ kept; replaying all of them/);
    expect(unknown.ids()).toEqual(expect.arrayContaining([seen, ...again.ids()]));
    unknown.close();
  });
});
