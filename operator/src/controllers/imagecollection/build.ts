// Pure: an ImageCollection's indexing Job (the cutout runner's `index` mode over the source volume) and the status
// read from that Job's report (its pod's termination message: tile and band counts and every tile's footprint).
import { gunzipSync } from 'node:zlib';
import type { KubeObject } from '../../api/object.js';
import type { ImageCollection, ImageCollectionStatus, TileFootprint } from '../../api/v1alpha1/index.js';
import { childMeta, dnsLabel, shortHash } from '../../meta/index.js';
import { runnerJob, TERMINATION_LOG } from '../cutoutjob/runner-pod.js';
import { INDEX_FILE, RESULTS, S3_INDEX_FILE, s3Env, s3Source } from '../cutoutjob/tiles.js';

export { INDEX_FILE, S3_INDEX_FILE } from '../cutoutjob/tiles.js';

/** Name of the indexing Job of the collection's current source: a new source, a new Job. */
export function indexJobName(c: ImageCollection): string {
  return dnsLabel([c.metadata.name ?? '', 'index', shortHash(JSON.stringify(c.spec.source))]);
}

/** The indexing Job: reads every file's headers, writes tiles.json next to the tiles, reports the footprints. */
export function indexJob(c: ImageCollection, image: string): KubeObject {
  const owner = {
    apiVersion: c.apiVersion,
    kind: c.kind,
    metadata: {
      name: c.metadata.name ?? '',
      ...(c.metadata.namespace !== undefined && { namespace: c.metadata.namespace }),
      uid: c.metadata.uid ?? '',
    },
  };
  const name = indexJobName(c);
  const meta = { ...childMeta(owner, 'index', { name }), name };
  const s3 = s3Source(c);
  const src = c.spec.source.persistentVolumeClaim;
  if (s3 !== undefined || src === undefined) {
    // A bucket is only read: its headers by ranged GETs, the index written to the results claim.
    const res = c.spec.results.persistentVolumeClaim;
    return runnerJob({
      meta,
      image,
      args: [
        'index-s3',
        JSON.stringify(s3),
        `${RESULTS}/${S3_INDEX_FILE}`,
        '--summary-file',
        TERMINATION_LOG,
      ],
      env: s3Env(c),
      volumes: [
        {
          name: 'results',
          mountPath: RESULTS,
          readOnly: false,
          subPath: res.path,
          source: { persistentVolumeClaim: { claimName: res.claimName } },
        },
      ],
    });
  }
  return runnerJob({
    meta,
    image,
    args: ['index', '/tiles', `/tiles/${INDEX_FILE}`, '--summary-file', TERMINATION_LOG],
    volumes: [
      {
        name: 'tiles',
        mountPath: '/tiles',
        readOnly: false,
        subPath: src.path,
        source: { persistentVolumeClaim: { claimName: src.claimName } },
      },
    ],
  });
}

/** The index report, as the runner's `indexSummary` writes it. */
export interface IndexReport {
  readonly tiles: number;
  readonly bands: readonly string[];
  readonly skipped: number;
  /** Bytes of the largest tile's files (absent from an older runner's report). */
  readonly largestTileBytes?: number;
  readonly footprints?: readonly TileFootprint[];
}

/** Thrown for a report that is not the runner's. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
}

/** Parses the indexing pod's termination message (plain JSON, or `{"gz": base64}`). */
export function parseIndexReport(message: string): IndexReport {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(message) as Record<string, unknown>;
    if (typeof o['gz'] === 'string')
      o = JSON.parse(gunzipSync(Buffer.from(o['gz'], 'base64')).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ReportError(`index report is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { tiles, bands, skipped, fp, largestTileBytes } = o;
  if (typeof tiles !== 'number' || !Array.isArray(bands) || typeof skipped !== 'number')
    throw new ReportError('index report lacks tiles, bands or skipped');
  const report: IndexReport = {
    tiles,
    bands: bands.map(String),
    skipped,
    ...(typeof largestTileBytes === 'number' && { largestTileBytes }),
  };
  if (!Array.isArray(fp)) return report;
  const footprints = fp.map((row: unknown, i) => {
    const r = row as unknown[];
    if (
      !Array.isArray(r) ||
      r.length !== 5 ||
      typeof r[0] !== 'string' ||
      r.slice(1).some((v) => typeof v !== 'number')
    )
      throw new ReportError(`index report fp[${i}]: expected [tile, raMin, raMax, decMin, decMax]`);
    const [tile, raMin, raMax, decMin, decMax] = r as [string, number, number, number, number];
    return { tile, raMin, raMax, decMin, decMax };
  });
  return { ...report, footprints };
}

/** The union of the footprints as RA/Dec bounds (RA taken across the widest empty gap, so RA 0 is handled). */
export function coverageOf(fps: readonly TileFootprint[]): ImageCollectionStatus['coverage'] {
  if (fps.length === 0) return undefined;
  // RA intervals on the circle; the coverage is the circle minus its largest gap.
  const iv = fps.flatMap((f) =>
    f.raMin <= f.raMax
      ? [[f.raMin, f.raMax]]
      : [
          [f.raMin, 360],
          [0, f.raMax],
        ],
  );
  iv.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  const merged: [number, number][] = [];
  for (const [a = 0, b = 0] of iv) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  let gapStart = 0;
  let gapEnd = 0;
  let gap = -1;
  merged.forEach(([, end], i) => {
    const next = merged[(i + 1) % merged.length] ?? [0, 0];
    const g = i + 1 < merged.length ? next[0] - end : next[0] + 360 - end;
    if (g > gap) [gap, gapStart, gapEnd] = [g, end, next[0]];
  });
  const raMin = gap <= 0 ? 0 : gapEnd % 360;
  const raMax = gap <= 0 ? 360 : gapStart;
  return {
    raMin,
    raMax,
    decMin: Math.min(...fps.map((f) => f.decMin)),
    decMax: Math.max(...fps.map((f) => f.decMax)),
    crossRa0: raMin > raMax,
  };
}
