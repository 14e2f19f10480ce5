// `npx tsx services/cutout-runner/bench/s3-source.bench.ts [-- --tile-size 2048 --arcmin 1 --cutouts 50]`: what a
// shard over a bucket would pay to read its tiles by downloading each file once (what it does, s3/stage.ts) against
// reading each cutout's rows by ranged GETs (the alternative ADR 0016 weighs), on a real S3-compatible server
// (versitygw on loopback) with sample tiles of full DES size: 2 × 1 tiles × bands g, r, one tile Rice-compressed.
// Also the indexing cost: ranged header GETs and their bytes against the bytes listed. Loopback has no network
// latency: per-request costs on a real endpoint are higher, which favours fewer, larger requests further.

import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@skyport/s3';
import { startS3 } from '../../../packages/s3/test/support/s3server.js';
import { sidePixels } from '../src/cutout/positions.js';
import { FitsFile } from '../src/fits/read.js';
import { buildBucketIndex } from '../src/s3/index.js';
import { TileStager } from '../src/s3/stage.js';
import { generateSurvey } from '../src/survey/generate.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const tileSize = arg('--tile-size', 2048);
const arcmin = arg('--arcmin', 1);
const cutouts = arg('--cutouts', 50);

const dir = mkdtempSync(join(tmpdir(), 'skyport-s3-bench-'));
const s3 = await startS3('skyport-bench');
try {
  const t0 = performance.now();
  const survey = generateSurvey({
    dir: join(dir, 'tiles'),
    tileSize,
    tilesPerSide: 2,
    bands: ['g', 'r'],
    starsPerTile: 5,
    compressed: ['T00'],
  });
  const files = survey.files.filter((f) => f.startsWith('T00') || f.startsWith('T10'));
  console.log(
    `generated ${survey.files.length} files of ${tileSize}² in ${Math.round(performance.now() - t0)} ms`,
  );
  const c = s3.client();
  for (const f of files) await c.upload(`bench/${f}`, createReadStream(join(dir, 'tiles', f)));
  const bucket = {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix: 'bench',
    region: s3.region,
    forcePathStyle: true,
  };
  const client = new S3Client({ ...bucket, credentials: s3.credentials });

  // Indexing: headers only.
  const ti = performance.now();
  const { stats } = await buildBucketIndex(client, bucket);
  const indexMs = performance.now() - ti;
  console.log(
    `index: ${stats.files} files, ${stats.gets} ranged GETs, ${stats.bytesRead} of ${stats.bytesListed} bytes ` +
      `(${((100 * stats.bytesRead) / stats.bytesListed).toFixed(3)} %), ${Math.round(indexMs)} ms`,
  );

  // Download each file once (three rounds, the median).
  const rounds: number[] = [];
  let bytes = 0;
  for (let r = 0; r < 3; r++) {
    const st = new TileStager(client, bucket, join(dir, `scratch-${r}`));
    const t = performance.now();
    await st.stage(new Set(files), new Map());
    rounds.push(performance.now() - t);
    bytes = st.stats.bytes;
    st.clear();
  }
  rounds.sort((a, b) => a - b);
  const dl = rounds[1] ?? 0;
  console.log(
    `download: ${files.length} files, ${(bytes / 1024 ** 2).toFixed(1)} MiB in ${Math.round(dl)} ms ` +
      `(${(bytes / 1024 ** 2 / (dl / 1000)).toFixed(0)} MiB/s; per tile of ${files.length / 2} bands ${Math.round(dl / 2)} ms)`,
  );

  // Ranged reads of an uncompressed tile: per cutout and band, the SCI rows it spans (full width, one GET).
  const plain = files.find((f) => f.startsWith('T10') && f.endsWith('.fits')) ?? '';
  const f = FitsFile.open(join(dir, 'tiles', plain));
  const sci = f.hdu('SCI');
  f.close();
  const n = sidePixels(arcmin, 'arcmin', 0.263 / 3600);
  const rowBytes = tileSize * 4;
  const times: number[] = [];
  let rangedBytes = 0;
  for (let i = 0; i < cutouts; i++) {
    const y0 = Math.floor(((i * 7919) % (tileSize - n)) + 0);
    const from = sci.dataOffset + y0 * rowBytes;
    const t = performance.now();
    const b = await client.getBytes(`bench/${plain}`, [from, from + n * rowBytes - 1]);
    times.push(performance.now() - t);
    rangedBytes += b.length;
  }
  times.sort((a, b) => a - b);
  const per = times.reduce((a, b) => a + b, 0) / times.length;
  const perTileFile = dl / files.length;
  console.log(
    `ranged: ${cutouts} cutouts of ${n}² px (${arcmin}′), one GET of ${((n * rowBytes) / 1024 ** 2).toFixed(2)} MiB ` +
      `each per band and HDU: mean ${per.toFixed(1)} ms, p50 ${times[Math.floor(times.length / 2)]?.toFixed(1)} ms ` +
      `(${(rangedBytes / 1024 ** 2).toFixed(1)} MiB in all)`,
  );
  console.log(
    `break-even: ${(perTileFile / per).toFixed(1)} cutouts per file (SCI only; ${(perTileFile / (3 * per)).toFixed(1)} ` +
      `with SCI, MSK and WGT each its own GET) — more cutouts on a tile and the download wins`,
  );
} finally {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
}
