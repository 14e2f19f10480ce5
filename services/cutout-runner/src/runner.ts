// One shard of a CutoutJob: positions → FITS cutouts per band (+ colour PNGs) → manifest.csv (one row per
// input row: status, files, coverage, reason) and summary.json. Positions are planned first and cut in
// tile order, so each tile is read once while a small cache of images holds it and its neighbours. Every
// file is written under a temporary name and renamed, and names are deterministic: rerunning a killed
// shard overwrites, never duplicates; manifest.csv and summary.json are written last.

import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatCard } from './fits/header.js';
import { emptyPrimary, hduBytes, imageHduParts, type Image } from './fits/image.js';
import { FitsFile } from './fits/read.js';
import { writeFileAtomic } from './fits/write.js';
import { asinhRgb, DES_LUPTON, luptonRgb, rgbPng, type LuptonOptions } from './colour/lupton.js';
import {
  cutPieces,
  planCutout,
  rowSpans,
  type Cut,
  type EdgePolicy,
  type MultiTilePolicy,
  type PixelSize,
  type Plan,
} from './cutout/cut.js';
import {
  DES_LIMITS,
  parsePositions,
  radiusPixels,
  sidePixels,
  type Limits,
  type Position,
  type Shape,
  type SizeUnit,
} from './cutout/positions.js';
import type { IndexedTile, TileIndex } from './survey/tile-index.js';
import type { TanWcs } from './wcs.js';
import { peakRssBytes } from '@skyport/service-kit/rss';

export type Colour =
  | ({
      readonly method: 'lupton';
      readonly bands: readonly [string, string, string];
    } & Partial<LuptonOptions>)
  | {
      readonly method: 'asinh';
      readonly bands: readonly [string, string, string];
      readonly percentile?: readonly [number, number];
    };

export interface ShardSpec {
  /** DES-style positions CSV text. */
  readonly positions: string;
  /** The collection's files and index (paths in the index are relative to `root`). */
  readonly root: string;
  readonly index: TileIndex;
  readonly outputDir: string;
  /** Default size; `shape: circle` makes x the diameter (y is then x) and blanks pixels outside it. */
  readonly size?: { readonly x: number; readonly y: number; readonly unit: SizeUnit; readonly shape?: Shape };
  /** Bands written as FITS (default: every band of the collection). */
  readonly bands?: readonly string[];
  readonly hdus?: readonly string[];
  readonly edgePolicy?: EdgePolicy;
  readonly multiTilePolicy?: MultiTilePolicy;
  readonly colour?: readonly Colour[];
  readonly limits?: Limits;
  /** Images held at once (default 4 tiles' worth of bands × HDUs). */
  readonly cacheImages?: number;
}

export type Status = 'ok' | 'partial' | 'unmatched' | 'failed';

export interface ManifestRow {
  readonly row: number;
  readonly id: string;
  readonly ra: number | string;
  readonly dec: number | string;
  readonly status: Status;
  readonly tile: string;
  readonly files: readonly string[];
  readonly coverage: number;
  readonly reason: string;
}

export interface Summary {
  readonly positions: number;
  readonly counts: Record<Status, number>;
  readonly files: number;
  readonly bytes: number;
  readonly tilesRead: number;
  /** The process's peak resident set so far (MiB). */
  readonly peakRssMiB: number;
  /** CPU time of this process over `timingsMs.total` (user and system), to tell work from waiting for a core. */
  readonly cpuMs: { readonly user: number; readonly system: number };
  readonly timingsMs: {
    readonly total: number;
    readonly plan: number;
    readonly read: number;
    readonly cut: number;
    readonly write: number;
  };
  /** A bucket source: the tiles downloaded into the scratch (count, bytes, time, retries, failures, peak). */
  readonly staging?: StagingSummary;
}

/** `J hhmmss.ssss ±ddmmss.ssss`, DESaccess's cutout name (rounded, carries handled). */
export function desName(ra: number, dec: number): string {
  const t = Math.round((ra / 15) * 3600 * 1e4) % (24 * 3600 * 1e4);
  const hh = Math.floor(t / 36e6);
  const mm = Math.floor((t % 36e6) / 6e5);
  const ss = (t % 6e5) / 1e4;
  const d = Math.round(Math.abs(dec) * 3600 * 1e4);
  const dd = Math.floor(d / 36e6);
  const dm = Math.floor((d % 36e6) / 6e5);
  const ds = (d % 6e5) / 1e4;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const s7 = (n: number): string => n.toFixed(4).padStart(7, '0');
  return `DESJ${p2(hh)}${p2(mm)}${s7(ss)}${dec < 0 ? '-' : '+'}${p2(dd)}${p2(dm)}${s7(ds)}`;
}

/** A small LRU cache of decoded images keyed by file and HDU. */
class ImageCache {
  private readonly map = new Map<string, Image>();
  reads = 0;
  readMs = 0;

  constructor(
    private readonly root: string,
    private readonly capacity: number,
    /** Files that could not be had (a bucket source), with the reason a cutout needing them reports. */
    private readonly missing: ReadonlyMap<string, string> = new Map(),
  ) {}

  get(path: string, hdu: string): Image {
    const key = `${path}\u0000${hdu}`;
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const gone = this.missing.get(path);
    if (gone !== undefined) throw new Error(gone);
    const t0 = performance.now();
    const f = FitsFile.open(join(this.root, path));
    try {
      const img = f.readImage(hdu);
      this.map.set(key, img);
      this.reads++;
      while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value ?? '');
      return img;
    } finally {
      f.close();
      this.readMs += performance.now() - t0;
    }
  }
}

function fileFor(tile: IndexedTile, band: string): string | undefined {
  return tile.files.find((f) => f.band === band)?.path;
}

const CSV_HEADER = 'ROW,ID,RA,DEC,STATUS,TILENAME,FILES,COVERAGE,REASON';

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function manifestCsv(rows: readonly ManifestRow[]): string {
  const lines = rows.map((r) =>
    [
      String(r.row),
      r.id,
      String(r.ra),
      String(r.dec),
      r.status,
      r.tile,
      r.files.join(';'),
      r.coverage.toFixed(6),
      r.reason,
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_HEADER, ...lines].join('\r\n') + '\r\n';
}

interface Context {
  readonly spec: ShardSpec;
  readonly fitsBands: readonly string[];
  readonly hdus: readonly string[];
  readonly edge: EdgePolicy;
  readonly colours: readonly Colour[];
  readonly cutBands: readonly string[];
  readonly cache: ImageCache;
  readonly used: Set<string>;
  bytes: number;
  files: number;
  cutMs: number;
  writeMs: number;
}

/** One band × HDU of a planned cutout, from every piece that has the band. */
function cutOne(ctx: Context, plan: Plan, band: string, hdu: string): Cut | undefined {
  const pieces = plan.pieces.filter((p) => fileFor(p.tile, band) !== undefined);
  const images = pieces.map((p) => ctx.cache.get(fileFor(p.tile, band) ?? '', hdu));
  return cutPieces({ ...plan, pieces }, images, ctx.edge);
}

/** The cutouts of one position: FITS per band (requested HDUs), then colour PNGs from the SCI cuts. */
function cutPosition(ctx: Context, pos: Position, plan: Plan): ManifestRow {
  const tc = performance.now();
  const dirName = plan.best.tile;
  let name = desName(pos.ra, pos.dec);
  if (ctx.used.has(`${dirName}/${name}`)) name = `${name}_r${pos.row}`;
  ctx.used.add(`${dirName}/${name}`);
  const problems: string[] = [];
  const sci = new Map<string, Cut>();
  const fitsParts = new Map<string, Uint8Array[]>();
  let coverage = 1;
  let refused = false;
  for (const band of ctx.cutBands) {
    if (fileFor(plan.best, band) === undefined) {
      problems.push(`no-band: tile ${plan.best.tile} has no ${band} file`);
      continue;
    }
    const asFits = ctx.fitsBands.includes(band);
    for (const hdu of asFits ? ctx.hdus : ['SCI']) {
      let cut: Cut | undefined;
      try {
        cut = cutOne(ctx, plan, band, hdu);
      } catch (e) {
        problems.push(`read-error: ${band} ${hdu}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      if (cut === undefined) {
        refused = true;
        continue;
      }
      coverage = Math.min(coverage, cut.coverage);
      if (hdu === 'SCI') sci.set(band, cut);
      if (!asFits) continue;
      const parts: Uint8Array[] = fitsParts.get(band) ?? [
        primaryFor(pos, plan, band, ctx.spec.size?.unit ?? 'arcmin'),
      ];
      parts.push(...imageHduParts(cut.header, cut.image, false));
      fitsParts.set(band, parts);
    }
  }
  ctx.cutMs += performance.now() - tc;
  if (refused) {
    const why = `edge: coverage ${plan.coverage.toFixed(4)} < 1 (edgePolicy error)`;
    return base(pos, 'failed', plan.best.tile, plan.coverage, why);
  }
  const tw = performance.now();
  mkdirSync(join(ctx.spec.outputDir, dirName), { recursive: true });
  const out: string[] = [];
  const put = (rel: string, bufs: readonly Uint8Array[]): void => {
    // A FITS file's HDUs written one after the other: its bytes are not copied into one buffer first.
    writeFileAtomic(join(ctx.spec.outputDir, rel), bufs);
    out.push(rel);
    ctx.bytes += bufs.reduce((n, b) => n + b.length, 0);
  };
  for (const [band, parts] of fitsParts) put(`${dirName}/${name}_${band}.fits`, parts);
  for (const c of ctx.colours) {
    const png = colourPng(c, sci);
    if (png === undefined) problems.push(`colour ${c.bands.join('')}: a band is missing`);
    else put(`${dirName}/${name}_${c.bands.join('')}_${c.method}.png`, [png]);
  }
  ctx.writeMs += performance.now() - tw;
  ctx.files += out.length;
  // Nothing written (e.g. every band's file unreadable) is a failure; some outputs with problems are partial.
  const status: Status = out.length === 0 ? 'failed' : coverage < 1 || problems.length > 0 ? 'partial' : 'ok';
  const padded =
    coverage < 1 ? `edge: padded (${plan.pieces.length} tile${plan.pieces.length > 1 ? 's' : ''})` : '';
  const reason = [padded, ...problems].filter(Boolean).join('; ');
  return { ...base(pos, status, plan.best.tile, coverage, reason), files: out };
}

function colourPng(c: Colour, sci: ReadonlyMap<string, Cut>): Buffer | undefined {
  const [r, g, b] = c.bands.map((x) => sci.get(x));
  if (r === undefined || g === undefined || b === undefined) return undefined;
  const rgb =
    c.method === 'lupton'
      ? luptonRgb(r.image.data, g.image.data, b.image.data, { ...DES_LUPTON, ...definedOnly(c) })
      : asinhRgb([r.image.data, g.image.data, b.image.data], c.percentile?.[0], c.percentile?.[1]);
  if (r.circle === undefined) return rgbPng(rgb, r.image.width, r.image.height);
  // A circle: transparent and black outside it (black for viewers that ignore alpha).
  const { width, height } = r.image;
  const alpha = new Uint8Array(width * height);
  const spans = rowSpans(width, height, r.circle);
  for (let j = 0; j < height; j++)
    alpha.fill(255, j * width + (spans[2 * j] ?? 0), j * width + (spans[2 * j + 1] ?? 0));
  for (let i = 0; i < alpha.length; i++) if (alpha[i] === 0) rgb.fill(0, 3 * i, 3 * i + 3);
  return rgbPng(rgb, width, height, alpha);
}

/** Removes temporary files a killed earlier run of this shard left behind (never finished outputs). */
function removeStaleTemporaries(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.startsWith('.tmp-')) {
      rmSync(join(e.parentPath, e.name), { force: true });
      n++;
    }
  }
  return n;
}

/** A shard between planning and its manifest: the rows settled so far and the cutouts to make, in tile order. */
interface ShardRun {
  readonly spec: ShardSpec;
  readonly ctx: Context;
  readonly rows: Map<number, ManifestRow>;
  readonly planned: readonly { pos: Position; plan: Plan }[];
  readonly ignoredColumns: readonly string[];
  readonly t0: number;
  readonly tPlan: number;
  readonly cpu0: NodeJS.CpuUsage;
}

/** A bucket source's staging, as the shard's summary reports it. */
export interface StagingSummary {
  readonly downloads: number;
  readonly bytes: number;
  readonly ms: number;
  readonly retries: number;
  readonly failed: number;
  readonly peakScratchBytes: number;
}

function startShard(spec: ShardSpec, missing?: ReadonlyMap<string, string>): ShardRun {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  removeStaleTemporaries(spec.outputDir);
  const size = spec.size ?? { x: 1, y: 1, unit: 'arcmin' as const };
  const fitsBands = spec.bands ?? spec.index.bands;
  const hdus = spec.hdus ?? ['SCI'];
  const edge = spec.edgePolicy ?? 'pad';
  const colours = spec.colour ?? [];
  const cutBands = [...new Set([...fitsBands, ...colours.flatMap((c) => c.bands)])];
  const shape = size.shape ?? 'box';
  const parsed = parsePositions(
    spec.positions,
    { xsize: size.x, ysize: size.y, unit: size.unit, shape },
    spec.limits ?? DES_LIMITS,
  );
  const rows = new Map<number, ManifestRow>();
  for (const e of parsed.errors) {
    rows.set(e.row, {
      row: e.row,
      id: e.id,
      ra: '',
      dec: '',
      status: e.status ?? 'failed',
      tile: '',
      files: [],
      coverage: 0,
      reason: e.reason,
    });
  }
  const wcsCache = new Map<string, TanWcs>();
  const planned: { pos: Position; plan: Plan }[] = [];
  for (const pos of parsed.positions) {
    const r = planCutout(
      spec.index,
      pos.ra,
      pos.dec,
      (t) => pixelSize(pos, size.unit, shape, t),
      spec.multiTilePolicy ?? 'mosaic',
      wcsCache,
    );
    if (r.ok) planned.push({ pos, plan: r.plan });
    else rows.set(pos.row, base(pos, r.status, '', 0, r.reason));
  }
  const tPlan = performance.now();
  planned.sort((a, b) => a.plan.best.tile.localeCompare(b.plan.best.tile) || a.pos.row - b.pos.row);
  const cache = new ImageCache(
    spec.root,
    spec.cacheImages ?? Math.max(8, 4 * cutBands.length * hdus.length),
    missing,
  );
  const ctx: Context = {
    spec,
    fitsBands,
    hdus,
    edge,
    colours,
    cutBands,
    cache,
    used: new Set(),
    bytes: 0,
    files: 0,
    cutMs: 0,
    writeMs: 0,
  };
  return { spec, ctx, rows, planned, ignoredColumns: parsed.ignoredColumns, t0, tPlan, cpu0 };
}

function endShard(run: ShardRun, staging?: StagingSummary): { rows: ManifestRow[]; summary: Summary } {
  const { spec, ctx, rows, t0, tPlan, cpu0 } = run;
  const { bytes, files, cutMs, writeMs, cache } = ctx;
  const ordered = [...rows.values()].sort((a, b) => a.row - b.row);
  const counts: Record<Status, number> = { ok: 0, partial: 0, unmatched: 0, failed: 0 };
  for (const r of ordered) counts[r.status]++;
  mkdirSync(spec.outputDir, { recursive: true });
  writeFileAtomic(join(spec.outputDir, 'manifest.csv'), manifestCsv(ordered));
  const cpu = process.cpuUsage(cpu0);
  const summary: Summary = {
    positions: ordered.length,
    counts,
    files,
    bytes,
    tilesRead: cache.reads,
    peakRssMiB: Math.round(peakRssBytes() / 1048576),
    cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
    timingsMs: {
      total: Math.round(performance.now() - t0),
      plan: Math.round(tPlan - t0),
      read: Math.round(cache.readMs),
      cut: Math.round(cutMs - cache.readMs),
      write: Math.round(writeMs),
    },
    ...(staging !== undefined && { staging: { ...staging, ms: Math.round(staging.ms) } }),
  };
  writeFileAtomic(
    join(spec.outputDir, 'summary.json'),
    JSON.stringify({ ...summary, ignoredColumns: run.ignoredColumns }, null, 2) + '\n',
  );
  return { rows: ordered, summary };
}

/** Runs one shard; returns the manifest rows (in input order) and the summary it wrote. */
export function runShard(spec: ShardSpec): { rows: ManifestRow[]; summary: Summary } {
  const run = startShard(spec);
  for (const { pos, plan } of run.planned) run.rows.set(pos.row, cutPosition(run.ctx, pos, plan));
  return endShard(run);
}

/** Where a shard's files come from when they are not on a volume: staged into `spec.root` tile by tile. */
export interface TileSource {
  /** Files that could not be had, with the reason (the cutouts needing one report it). */
  readonly missing: ReadonlyMap<string, string>;
  /**
   * Makes these files (paths relative to the root) present in the root; `nextUse` gives the group index at which
   * each file held is next needed (absent: never again), so the source may keep it.
   */
  stage(
    paths: ReadonlySet<string>,
    sizes: ReadonlyMap<string, number>,
    nextUse: ReadonlyMap<string, number>,
  ): Promise<void>;
  /** Removes what is still staged. */
  clear(): void;
  readonly stats: StagingSummary;
}

/**
 * Runs one shard whose files are staged by `source` (a bucket): the cutouts are made one tile's group at a time
 * (positions whose best tile is the same), and before each group the files its pieces need, in the bands cut, are
 * staged; the source keeps a file a later group needs while its budget allows (then each file is fetched once).
 */
export async function runShardStaged(
  spec: ShardSpec,
  source: TileSource,
): Promise<{ rows: ManifestRow[]; summary: Summary }> {
  const run = startShard(spec, source.missing);
  const sizes = new Map<string, number>();
  for (const t of spec.index.tiles)
    for (const f of t.files) if (f.bytes !== undefined) sizes.set(f.path, f.bytes);
  // The groups (positions whose best tile is the same, in order) and the files each needs.
  const groups: { from: number; to: number; need: Set<string> }[] = [];
  for (let i = 0; i < run.planned.length;) {
    const tile = run.planned[i]?.plan.best.tile;
    const need = new Set<string>();
    let j = i;
    for (; j < run.planned.length && run.planned[j]?.plan.best.tile === tile; j++)
      for (const piece of run.planned[j]?.plan.pieces ?? [])
        for (const band of run.ctx.cutBands) {
          const f = fileFor(piece.tile, band);
          if (f !== undefined) need.add(f);
        }
    groups.push({ from: i, to: j, need });
    i = j;
  }
  try {
    for (const [g, group] of groups.entries()) {
      const nextUse = new Map<string, number>();
      for (let h = groups.length - 1; h > g; h--) for (const f of groups[h]?.need ?? []) nextUse.set(f, h);
      await source.stage(group.need, sizes, nextUse);
      for (let i = group.from; i < group.to; i++) {
        const item = run.planned[i];
        if (item !== undefined) run.rows.set(item.pos.row, cutPosition(run.ctx, item.pos, item.plan));
      }
    }
  } finally {
    source.clear();
  }
  return endShard(run, source.stats);
}

/**
 * A position's size in a tile's pixels. A circle's box is square, its side and radius from the mean of the
 * two axes' pixel scales (survey pixels are square; the circle is not made an ellipse).
 */
function pixelSize(pos: Position, unit: SizeUnit, shape: Shape, t: IndexedTile): PixelSize {
  const [sx = 0, sy = 0] = t.pixelScale;
  if (shape === 'circle') {
    const scale = Math.sqrt(sx * sy) / 3600;
    const n = sidePixels(pos.xsize, unit, scale);
    return { nx: n, ny: n, r: radiusPixels(pos.xsize, unit, scale) };
  }
  return { nx: sidePixels(pos.xsize, unit, sx / 3600), ny: sidePixels(pos.ysize, unit, sy / 3600) };
}

function definedOnly(c: Partial<LuptonOptions>): Partial<LuptonOptions> {
  return Object.fromEntries(
    Object.entries({ minimum: c.minimum, stretch: c.stretch, Q: c.Q }).filter(([, v]) => v !== undefined),
  );
}

function base(pos: Position, status: Status, tile: string, coverage: number, reason: string): ManifestRow {
  return { row: pos.row, id: pos.id, ra: pos.ra, dec: pos.dec, status, tile, files: [], coverage, reason };
}

/** The cutout file's primary HDU: provenance only (the images are extensions). */
function primaryFor(pos: Position, plan: Plan, band: string, unit: SizeUnit): Buffer {
  const circle =
    plan.circle === undefined
      ? []
      : [
          formatCard('CUTSHAPE', 'circle', 'pixels outside the circle are blank'),
          formatCard('CUTDIAM', pos.xsize, 'requested diameter (CUTUNIT)'),
          formatCard('CUTUNIT', unit, 'unit of CUTDIAM'),
        ];
  const h = emptyPrimary([
    formatCard('RA_CUT', pos.ra, 'requested RA (deg)'),
    formatCard('DEC_CUT', pos.dec, 'requested Dec (deg)'),
    formatCard('TILENAME', plan.best.tile, 'tile holding the position'),
    formatCard('BAND', band),
    formatCard('NTILES', plan.pieces.length, 'tiles the cutout was cut from'),
    formatCard('WCSPOLIC', 'crpix-shift', 'CRVAL/CD kept, CRPIX shifted'),
    ...circle,
    formatCard('ORIGIN', 'skyport cutout-runner'),
  ]);
  return hduBytes(h, new Uint8Array(0));
}
