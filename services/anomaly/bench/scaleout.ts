// Scale-out benchmark: score N points through Redis with 1 and 2 worker processes vs in-process, same model.
// Usage: tsx services/anomaly/bench/scaleout.ts [--rows 10000000] [--cols 10] [--trees 100] [--chunk 50000]

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeModel, fit, modelId, score, type Model } from '../src/engine/index.js';
import { Coordinator } from '../src/pool/coordinator.js';
import { connectRedis } from '../src/store/redis.js';
import { Store, type DatasetMeta } from '../src/store/store.js';
import { bufferToFloat64 } from '../src/store/matrix.js';
import { RedisServer } from '../test/support/redis-server.js';
import { gaussianData } from '../test/support/procs.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    cols: { type: 'string', default: '10' },
    trees: { type: 'string', default: '100' },
    chunk: { type: 'string', default: '50000' },
    aof: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
  },
});
const ROWS = Number(args.rows);
const COLS = Number(args.cols);
const TREES = Number(args.trees);
const CHUNK = Number(args.chunk);
/** Each configuration runs this many times, interleaved, and its best time counts (load on a shared box drifts). */
const ROUNDS = Math.max(1, Number(args.rounds));
const TENANT = 'bench';
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

function startWorker(url: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, '..', 'src', 'worker-main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      REDIS_URL: url,
      KEY_PREFIX: prefix,
      WORKER_THREADS: '1',
      LOG_LEVEL: 'info',
      CHUNK_ROWS: String(CHUNK),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('Started worker')) {
        out = '';
        res(child);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (c) => rej(new Error(`worker exited with ${c}`)));
  });
}

async function stopAll(ws: ChildProcess[]): Promise<void> {
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((r) => {
          if (w.exitCode !== null) return r();
          w.once('exit', () => r());
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function runPool(
  store: Store,
  coord: Coordinator,
  ds: DatasetMeta,
  id: string,
  threshold: number,
  workers: number,
  url: string,
  prefix: string,
): Promise<{ seconds: number; jobId: string }> {
  const ws: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) ws.push(await startWorker(url, prefix));
  // Workers are idle and connected; the clock covers enqueue → fan-in done (all broker and I/O costs).
  const t0 = performance.now();
  const jobId = await coord.submitScore(TENANT, { dataset: ds, modelId: id, threshold });
  for (;;) {
    const j = await store.getJob(TENANT, jobId);
    if (j?.phase === 'COMPLETED') break;
    if (j?.phase === 'ERROR' || j?.phase === 'ABORTED')
      throw new Error(`job ${jobId} ${j.phase}: ${j.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  await stopAll(ws);
  return { seconds, jobId };
}

async function main(): Promise<void> {
  console.log(
    `scaleout: ${ROWS.toLocaleString()} points × ${COLS} features, ${TREES} trees, ψ 256, full extension, chunks of ${CHUNK.toLocaleString()} rows`,
  );
  const redis = await RedisServer.start(args.aof ? { appendfsync: 'everysec' } : { appendonly: false });
  const conn = connectRedis(redis.url, true);
  const bull = connectRedis(redis.url, true);
  const prefix = 'bench';
  const store = new Store(conn, prefix);
  const coord = new Coordinator(store, bull);
  try {
    const data = gaussianData(ROWS, COLS, 1234);
    const trainRows = Math.min(ROWS, 100_000);
    const model: Model = fit(
      { data: data.subarray(0, trainRows * COLS), rows: trainRows, cols: COLS },
      { ntrees: TREES, sampleSize: 256, extensionLevel: COLS - 1, seed: 7 },
    );
    const id = modelId(model);
    const threshold = 0.6;
    await store.putModel(TENANT, encodeModel(model), {
      id,
      name: 'bench',
      createdAt: new Date().toISOString(),
      datasetId: 'bench',
      dims: COLS,
      columns: null,
      params: {},
      effectiveSampleSize: 256,
      threshold,
      thresholdSource: 'explicit',
      contamination: null,
      trainingRows: trainRows,
      bytes: 0,
    });
    const chunks = Math.ceil(ROWS / CHUNK);
    for (let i = 0; i < chunks; i++) {
      await store.putDatasetChunk(
        TENANT,
        'input',
        i,
        data.subarray(i * CHUNK * COLS, Math.min(ROWS, (i + 1) * CHUNK) * COLS),
        false,
      );
    }
    const ds: DatasetMeta = {
      id: 'input',
      rows: ROWS,
      cols: COLS,
      chunkRows: CHUNK,
      chunks,
      columns: null,
      format: 'binary',
      createdAt: new Date().toISOString(),
      temporary: false,
    };
    await store.putDatasetMeta(TENANT, ds);

    // The in-process baseline is the faster of one call over all rows and the pool's own chunking (one
    // score() call per chunk, as a worker thread does): the broker must not win by a better memory pattern.
    const inProcess = (): { seconds: number; scores: Float64Array } => {
      const t0 = performance.now();
      const scores = score(model, { data, rows: ROWS, cols: COLS });
      const whole = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const chunked = new Float64Array(ROWS);
      for (let r0 = 0; r0 < ROWS; r0 += CHUNK) {
        const r1 = Math.min(ROWS, r0 + CHUNK);
        chunked.set(
          score(model, { data: data.subarray(r0 * COLS, r1 * COLS), rows: r1 - r0, cols: COLS }),
          r0,
        );
      }
      const perChunk = (performance.now() - t1) / 1000;
      if (!Buffer.from(chunked.buffer).equals(Buffer.from(scores.buffer)))
        throw new Error('chunked in-process scores differ from whole-array scores');
      console.log(`  in-process: one call ${whole.toFixed(2)} s, per chunk ${perChunk.toFixed(2)} s`);
      return { seconds: Math.min(whole, perChunk), scores };
    };
    const line = (name: string, sec: number): void =>
      console.log(`${name}: ${sec.toFixed(2)} s  ${(ROWS / sec / 1000).toFixed(1)}k points/s`);
    let local: Float64Array | null = null;
    let tLocal = Infinity;
    let tOne = Infinity;
    let tTwo = Infinity;
    let same = true;
    for (let round = 1; round <= ROUNDS; round++) {
      const lp = inProcess();
      local ??= lp.scores;
      tLocal = Math.min(tLocal, lp.seconds);
      line(`round ${round} in-process, 1 thread`, lp.seconds);
      const one = await runPool(store, coord, ds, id, threshold, 1, redis.url, prefix);
      tOne = Math.min(tOne, one.seconds);
      line(`round ${round} pool, 1 worker      `, one.seconds);
      // The pool's scores must be the in-process scores, bit for bit.
      for (let i = 0; i < chunks && same; i++) {
        const got = bufferToFloat64(await store.getTaskOutput(TENANT, one.jobId, i));
        const want = local.subarray(i * CHUNK, i * CHUNK + got.length);
        same = Buffer.from(got.buffer).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength));
      }
      const two = await runPool(store, coord, ds, id, threshold, 2, redis.url, prefix);
      tTwo = Math.min(tTwo, two.seconds);
      line(`round ${round} pool, 2 workers     `, two.seconds);
    }
    // Measured again at the end and the best kept: on a shared machine the load drifts.
    const again = inProcess();
    tLocal = Math.min(tLocal, again.seconds);
    line('in-process, again           ', again.seconds);
    console.log(
      `best of ${ROUNDS}: in-process ${(ROWS / tLocal / 1000).toFixed(1)}k/s, 1 worker ${(ROWS / tOne / 1000).toFixed(1)}k/s, 2 workers ${(ROWS / tTwo / 1000).toFixed(1)}k/s`,
    );
    const one = { seconds: tOne };
    const two = { seconds: tTwo };
    const efficiency = one.seconds / (2 * two.seconds);
    const overhead = one.seconds / tLocal - 1;
    console.log(`scores identical to in-process: ${same ? 'yes' : 'NO'}`);
    console.log(
      `efficiency 1→2 workers : ${(efficiency * 100).toFixed(1)}%  (target ≥ 90%) ${efficiency >= 0.9 ? 'PASS' : 'MISS'}`,
    );
    console.log(
      `broker overhead, 1 worker vs in-process : ${(overhead * 100).toFixed(1)}%  (target ≤ 3%) ${overhead <= 0.03 ? 'PASS' : 'MISS'}`,
    );
    if (!same) process.exitCode = 1;
  } finally {
    await coord.close();
    conn.disconnect();
    bull.disconnect();
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
