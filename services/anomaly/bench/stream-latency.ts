// Online latency benchmark: single-point p50/p99 of POST /score and of one line on the NDJSON stream, on loopback.
// Usage: tsx services/anomaly/bench/stream-latency.ts [--requests 2000] [--warmup 200]

import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingMessage } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeModel, fit, modelId } from '../src/engine/index.js';
import { connectRedis } from '../src/store/redis.js';
import { Store } from '../src/store/store.js';
import { gaussianData } from '../test/support/procs.js';
import { freePort, RedisServer } from '../test/support/redis-server.js';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '200' } },
});
const N = Number(args.requests);
const WARMUP = Number(args.warmup);
const COLS = 10;
const TOKEN = 'bench-token-0123456789abcdef';
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function report(name: string, ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  const p99 = pct(s, 99);
  console.log(
    `${name}: n=${s.length}  p50 ${pct(s, 50).toFixed(3)} ms  p90 ${pct(s, 90).toFixed(3)} ms  p99 ${p99.toFixed(3)} ms  max ${(s[s.length - 1] ?? NaN).toFixed(3)} ms  ${p99 <= 5 ? 'PASS' : 'MISS'} (p99 ≤ 5 ms)`,
  );
  return p99;
}

async function startApi(url: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, '..', 'src', 'api-main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      REDIS_URL: url,
      KEY_PREFIX: 'bench',
      HOST: '127.0.0.1',
      PORT: String(port),
      TOKENS: `bench=${TOKEN}`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res, rej) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Started API')) res();
    });
    child.once('exit', (c) => rej(new Error(`API exited with ${c}: ${out}`)));
  });
  return child;
}

/** One POST /score of a single JSON point on a keep-alive connection. */
function scoreOnce(agent: Agent, port: number, path: string, body: string): Promise<void> {
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (r) => {
        r.resume();
        r.once('end', () => (r.statusCode === 200 ? res() : rej(new Error(`status ${r.statusCode}`))));
      },
    );
    req.once('error', rej);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const redis = await RedisServer.start({ appendfsync: 'everysec' });
  const conn = connectRedis(redis.url, false);
  const store = new Store(conn, 'bench');
  const port = await freePort();
  let api: ChildProcess | null = null;
  try {
    const rows = 20_000;
    const data = gaussianData(rows, COLS, 99, 0);
    const model = fit(
      { data, rows, cols: COLS },
      { ntrees: 100, sampleSize: 256, extensionLevel: COLS - 1, seed: 1 },
    );
    const id = modelId(model);
    await store.putModel('bench', encodeModel(model), {
      id,
      name: 'bench',
      createdAt: new Date().toISOString(),
      datasetId: 'bench',
      dims: COLS,
      columns: null,
      params: {},
      effectiveSampleSize: 256,
      threshold: 0.75,
      thresholdSource: 'explicit',
      contamination: null,
      trainingRows: rows,
      bytes: 0,
    });
    api = await startApi(redis.url, port);
    console.log(
      `stream-latency: ${N} single-point requests after ${WARMUP} warm-up, 100 trees, d = ${COLS}, full extension, loopback`,
    );

    // 1) POST /v1/models/:id/score with one point per request (keep-alive).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const points = Array.from({ length: N + WARMUP }, (_, i) =>
      JSON.stringify({ data: [Array.from(data.subarray((i % rows) * COLS, ((i % rows) + 1) * COLS))] }),
    );
    const single: number[] = [];
    for (let i = 0; i < N + WARMUP; i++) {
      const t0 = performance.now();
      await scoreOnce(agent, port, `/v1/models/${id}/score`, points[i]!);
      if (i >= WARMUP) single.push(performance.now() - t0);
    }
    report('POST /score, 1 point    ', single);
    agent.destroy();

    // 2) One open NDJSON stream: write a line, time until its score line comes back.
    const req = request({
      host: '127.0.0.1',
      port,
      path: `/v1/models/${id}/stream`,
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    req.flushHeaders();
    const res = await new Promise<IncomingMessage>((r, j) => {
      req.once('response', r);
      req.once('error', j);
    });
    let buf = '';
    let wake: (() => void) | null = null;
    res.on('data', (b: Buffer) => {
      buf += b.toString();
      wake?.();
    });
    const stream: number[] = [];
    for (let i = 0; i < N + WARMUP; i++) {
      const line =
        JSON.stringify(Array.from(data.subarray((i % rows) * COLS, ((i % rows) + 1) * COLS))) + '\n';
      const t0 = performance.now();
      req.write(line);
      while (!buf.includes('\n')) await new Promise<void>((r) => (wake = r));
      buf = buf.slice(buf.indexOf('\n') + 1);
      if (i >= WARMUP) stream.push(performance.now() - t0);
    }
    req.end();
    report('NDJSON stream, 1 line   ', stream);
  } finally {
    // The API must be gone before its Redis is: a pipe to a live child keeps this process running.
    if (api !== null && api.exitCode === null) {
      const exited = new Promise((r) => api?.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
    conn.disconnect();
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
