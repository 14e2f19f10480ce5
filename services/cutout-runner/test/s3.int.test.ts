// A collection in a real S3-compatible bucket (versitygw, packages/s3/test/support/s3server.ts): the sample survey
// uploaded under a prefix gives, indexed by ranged header reads, the same tiles.json as the directory; a shard over
// the bucket writes byte-identical cutouts, PNGs and manifest (sha256) to a shard over the directory, Rice tiles
// included; a tile missing from the bucket becomes per-position reasons; injected 503s are retried a bounded
// number of times (a loopback proxy in front of the server answers them).

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@skyport/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../../packages/s3/test/support/s3server.js';
import { BLOCK } from '../src/fits/header.js';
import { HEADER_READ_BLOCKS } from '../src/fits/scan.js';
import { main } from '../src/main.js';
import { runShard, runShardStaged, type ShardSpec } from '../src/runner.js';
import type { TileBucket } from '../src/s3/bucket.js';
import { buildBucketIndex } from '../src/s3/index.js';
import { TileStager } from '../src/s3/stage.js';
import { generateSurvey, type Survey } from '../src/survey/generate.js';
import { buildIndex, tileWcs, type TileIndex } from '../src/survey/tile-index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-s3-tiles-'));
const tiles = join(dir, 'tiles');
const PREFIX = 'dr2/coadd';
let s3: S3Server;
let survey: Survey;
let local: TileIndex;
let bucket: TileBucket;

/** A client that records every ranged GET it makes (key and byte count). */
class CountingClient extends S3Client {
  readonly ranges: { key: string; bytes: number }[] = [];
  override async getBytes(key: string, range?: readonly [number, number?]): Promise<Buffer> {
    const b = await super.getBytes(key, range);
    this.ranges.push({ key, bytes: b.length });
    return b;
  }
}

/**
 * A loopback proxy in front of the S3 server that answers 503 SlowDown to requests `fail` picks (headers passed
 * through untouched, so the signatures, made for the proxy's host, still verify).
 */
async function faultProxy(
  target: string,
  fail: (method: string, path: string, range: boolean) => boolean,
): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const up = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    seen.push(`${req.method} ${path}${req.headers.range ? ' range' : ''}`);
    if (fail(req.method ?? '', path, req.headers.range !== undefined)) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<Error><Code>SlowDown</Code><Message>injected</Message></Error>');
      return;
    }
    const fwd = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

function files(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => statSync(join(root, f)).isFile())
    .sort();
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every output's sha256 but the summary (timings differ). */
function digests(root: string): Record<string, string> {
  return Object.fromEntries(
    files(root)
      .filter((f) => !f.endsWith('summary.json'))
      .map((f) => [f, sha(join(root, f))]),
  );
}

/** Stars of every tile, tile corners (mosaics across up to four tiles, Rice tiles among them), one far away. */
function positions(): string {
  const lines = ['RA,DEC,ID'];
  survey.stars.slice(0, 60).forEach((s, i) => lines.push(`${s.ra},${s.dec},star${i}`));
  for (const t of local.tiles) {
    const [ra, dec] = tileWcs(t).pixelToWorld(-0.5, -0.5);
    lines.push(`${ra},${dec},corner-${t.tile}`);
  }
  lines.push('10,10,far');
  return lines.join('\n');
}

function spec(root: string, out: string, index = local): ShardSpec {
  return {
    positions: positions(),
    root,
    index,
    outputDir: join(dir, out),
    size: { x: 0.4, y: 0.4, unit: 'arcmin' },
    hdus: ['SCI', 'MSK', 'WGT'],
    colour: [{ method: 'lupton', bands: ['i', 'r', 'g'] }],
  };
}

function stager(client: S3Client, scratch: string, b = bucket, budget = Infinity): TileStager {
  return new TileStager(client, b, join(dir, scratch), { baseDelayMs: 1 }, budget);
}

beforeAll(async () => {
  s3 = await startS3('skyport-tiles');
  survey = generateSurvey({ dir: tiles, tileSize: 512 });
  local = buildIndex(tiles);
  const c = s3.client();
  for (const f of survey.files) await c.put(`${PREFIX}/${f}`, readFileSync(join(tiles, f)));
  // Not files of the collection: another extension, a deeper folder, a neighbouring prefix.
  await c.put(`${PREFIX}/README.txt`, Buffer.from('not a tile'));
  await c.put(`${PREFIX}/old/T00_g.fits`, readFileSync(join(tiles, survey.files[0] ?? '')));
  await c.put(`dr2/coadd-old/T00_g.fits`, readFileSync(join(tiles, survey.files[0] ?? '')));
  bucket = {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix: PREFIX,
    region: s3.region,
    forcePathStyle: true,
  };
}, 600_000);

afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('indexing a bucket', () => {
  it('gives the same tiles.json as the directory, reading only headers by ranged GETs', async () => {
    expect(survey.files.filter((f) => f.endsWith('.fz')).length).toBe(8);
    const client = new CountingClient({ ...bucket, credentials: s3.credentials });
    const { index, stats } = await buildBucketIndex(client, bucket);
    expect(JSON.stringify(index, null, 1)).toBe(JSON.stringify(local, null, 1));
    expect(index.tiles).toHaveLength(9);
    expect(index.skipped).toEqual([]);
    expect(stats.files).toBe(36);
    // Four HDUs a file, each header its own read; no read longer than the header window, no tile read whole.
    expect(stats.gets).toBe(36 * 4);
    expect(Math.max(...client.ranges.map((r) => r.bytes))).toBeLessThanOrEqual(HEADER_READ_BLOCKS * BLOCK);
    expect(stats.bytesRead).toBeLessThan(stats.bytesListed / 20);
    console.log(
      `bucket index: ${stats.gets} ranged GETs, ${stats.bytesRead} of ${stats.bytesListed} bytes ` +
        `(${((100 * stats.bytesRead) / stats.bytesListed).toFixed(2)} %)`,
    );
  });

  it('the index-s3 command writes the index and a summary with the largest tile (keys from the environment)', async () => {
    const out = join(dir, 'results', 'index', 'tiles.json');
    const summary = join(dir, 'index-summary.json');
    const saved = { ...process.env };
    process.env['AWS_ACCESS_KEY_ID'] = s3.credentials.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = s3.credentials.secretAccessKey;
    try {
      expect(await main(['index-s3', JSON.stringify(bucket), out, '--summary-file', summary])).toBe(0);
    } finally {
      process.env = saved;
    }
    expect(readFileSync(out, 'utf8')).toBe(JSON.stringify(local, null, 1) + '\n');
    const report = JSON.parse(readFileSync(summary, 'utf8')) as { tiles: number; largestTileBytes: number };
    expect(report.tiles).toBe(9);
    const biggest = Math.max(
      ...local.tiles.map((t) => t.files.reduce((n, f) => n + statSync(join(tiles, f.path)).size, 0)),
    );
    expect(report.largestTileBytes).toBe(biggest);
    // Without keys: a clear error, exit 1, nothing thrown.
    expect(await main(['index-s3', JSON.stringify(bucket), out])).toBe(1);
  });

  it('retries injected 503s on header reads and listings, a bounded number of times', async () => {
    let listFails = 1;
    let headerFails = 2;
    const proxy = await faultProxy(s3.endpoint, (method, path, range) => {
      if (method === 'GET' && path === `/${s3.bucket}/` && listFails > 0) return listFails-- > 0;
      if (range && path.endsWith('T11_r.fits.fz') && headerFails > 0) return headerFails-- > 0;
      return false;
    });
    try {
      const b = { ...bucket, endpoint: proxy.url };
      const client = new S3Client({ ...b, credentials: s3.credentials });
      const { index, stats } = await buildBucketIndex(client, b, { baseDelayMs: 1 });
      expect(JSON.stringify(index)).toBe(JSON.stringify(local));
      expect(stats.retries).toBe(3);
      // A file whose reads always fail is skipped with the reason after 4 tries, not a crash.
      const always = await faultProxy(s3.endpoint, (_m, path, range) => range && path.endsWith('T22_z.fits'));
      try {
        const b2 = { ...bucket, endpoint: always.url };
        const c2 = new S3Client({ ...b2, credentials: s3.credentials });
        const r = await buildBucketIndex(c2, b2, { baseDelayMs: 1 });
        expect(r.index.skipped.map((x) => x.path)).toEqual(['T22_z.fits']);
        expect(r.index.skipped[0]?.reason).toContain('SlowDown');
        expect(always.seen.filter((x) => x.includes('T22_z.fits')).length).toBe(4);
        expect(r.index.tiles).toHaveLength(9);
      } finally {
        await always.close();
      }
    } finally {
      await proxy.close();
    }
  });
});

describe('a shard over a bucket', () => {
  it('writes byte-identical cutouts, PNGs and manifest to a shard over the directory', async () => {
    const fromDir = runShard(spec(tiles, 'out-dir'));
    const st = stager(s3.client(), 'scratch-a');
    const fromBucket = await runShardStaged(spec(join(dir, 'scratch-a'), 'out-s3'), st);
    const a = digests(join(dir, 'out-dir'));
    const b = digests(join(dir, 'out-s3'));
    expect(Object.keys(b).length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(fromBucket.rows).toEqual(fromDir.rows);
    expect(fromDir.summary.counts.ok).toBeGreaterThan(40);
    // Mosaics: some corner cutouts come from several tiles, compressed ones among them.
    const corners = fromDir.rows.filter((r) => r.id.startsWith('corner-') && r.status === 'ok');
    expect(corners.length).toBeGreaterThan(0);
    const staging = fromBucket.summary.staging;
    expect(staging).toMatchObject({ failed: 0, retries: 0 });
    // With room in the scratch, every file is downloaded once, and deleted after its last group: empty at the end.
    expect(staging?.downloads).toBe(36);
    expect(files(join(dir, 'scratch-a'))).toEqual([]);
    console.log(
      `bucket shard: ${JSON.stringify(staging)}; directory shard ${fromDir.summary.timingsMs.total} ms`,
    );
  });

  it('a scratch budget of one tile: files a later group needs are fetched again, the outputs the same', async () => {
    const largest = Math.max(...local.tiles.map((t) => t.files.reduce((n, f) => n + (f.bytes ?? 0), 0)));
    const st = stager(s3.client(), 'scratch-d', bucket, largest);
    const r = await runShardStaged(spec(join(dir, 'scratch-d'), 'out-budget'), st);
    expect(digests(join(dir, 'out-budget'))).toEqual(digests(join(dir, 'out-dir')));
    expect(r.summary.staging?.downloads).toBeGreaterThan(36);
    // Never more than the files one group needs (a tile and its neighbours), however small the budget.
    expect(r.summary.staging?.peakScratchBytes).toBeLessThanOrEqual(9 * largest);
    expect(files(join(dir, 'scratch-d'))).toEqual([]);
  });

  it('a tile missing from the bucket: per-position reasons in the manifest, the other bands still cut', async () => {
    const c = s3.client();
    const gone = 'T11_r.fits.fz';
    await c.delete(`${PREFIX}/${gone}`);
    try {
      const st = stager(c, 'scratch-b');
      const { rows } = await runShardStaged(spec(join(dir, 'scratch-b'), 'out-missing'), st);
      const onT11 = rows.filter((r) => r.tile === 'T11');
      expect(onT11.length).toBeGreaterThan(0);
      for (const r of onT11) {
        expect(r.status).toBe('partial');
        expect(r.reason).toContain(`tile file missing from the bucket: s3://${s3.bucket}/${PREFIX}/${gone}`);
        expect(r.files.some((f) => f.endsWith('_g.fits'))).toBe(true);
        expect(r.files.some((f) => f.endsWith('_r.fits'))).toBe(false);
      }
      // Positions on other tiles are untouched (those not needing T11's r band for a mosaic).
      const dirRows = runShard(spec(tiles, 'out-dir-2')).rows;
      const untouched = rows.filter((r) => r.tile !== 'T11' && !r.reason.includes(gone));
      expect(untouched.length).toBeGreaterThan(30);
      for (const r of untouched) expect(r).toEqual(dirRows.find((d) => d.row === r.row));
      expect(st.stats.failed).toBe(1);
    } finally {
      await c.put(`${PREFIX}/${gone}`, readFileSync(join(tiles, gone)));
    }
  });

  it('retries injected 503s on downloads (bounded), and a file that keeps failing is a reason, not a crash', async () => {
    let fails = 2;
    const proxy = await faultProxy(s3.endpoint, (method, path, range) => {
      if (method === 'GET' && !range && path.endsWith('T00_g.fits.fz') && fails > 0) return fails-- > 0;
      return method === 'GET' && !range && path.endsWith('T22_i.fits');
    });
    try {
      const b = { ...bucket, endpoint: proxy.url };
      const st = stager(new S3Client({ ...b, credentials: s3.credentials }), 'scratch-c', b);
      const { rows, summary } = await runShardStaged(spec(join(dir, 'scratch-c'), 'out-retry'), st);
      expect(summary.staging?.retries).toBeGreaterThanOrEqual(2 + 3);
      expect(summary.staging?.failed).toBe(1);
      // The always-failing file was asked for four times (the first try and three retries), no more.
      expect(proxy.seen.filter((x) => x === `GET /${s3.bucket}/${PREFIX}/T22_i.fits`).length).toBe(4);
      const dirRows = runShard(spec(tiles, 'out-dir-3')).rows;
      for (const r of rows) {
        if (r.reason.includes('T22_i.fits')) {
          expect(r.reason).toContain('tile file could not be downloaded');
          expect(r.reason).toContain('SlowDown');
          expect(r.status).toBe('partial');
        } else expect(r).toEqual(dirRows.find((d) => d.row === r.row));
      }
      expect(rows.some((r) => r.reason.includes('T22_i.fits'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
