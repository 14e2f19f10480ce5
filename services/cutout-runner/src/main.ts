// The cutout runner's command line (what a CutoutJob shard's container runs):
//   main.ts shard SPEC.json        run one shard (positions, tiles, output dir → FITS, PNG, manifest)
//   main.ts index ROOT [OUT.json]  build a collection's tile index from its files' headers
//   main.ts survey DIR [--tile-size N] [--tiles K]
//                                  write the sample survey, its tiles.json and stars.csv
// Errors in the spec name the field; exit code 2 for a bad spec, 1 for anything else.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from './fits/write.js';
import { runShard, type Colour, type ShardSpec } from './runner.js';
import { generateSurvey } from './survey/generate.js';
import { buildIndex, type TileIndex } from './survey/tile-index.js';

export class SpecError extends Error {
  readonly code = 'BadSpec';
  override readonly name = 'SpecError';
}

type Json = Record<string, unknown>;

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new SpecError(`${field}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new SpecError(`${field}: expected a list of names`);
  }
  return v as string[];
}

function colours(v: unknown): Colour[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new SpecError('colour: expected a list');
  return v.map((c: unknown, i) => {
    const f = `colour[${i}]`;
    if (typeof c !== 'object' || c === null) throw new SpecError(`${f}: expected an object`);
    const o = c as Json;
    const method = oneOf(o.method, ['lupton', 'asinh'] as const, `${f}.method`) ?? 'lupton';
    const bands = strings(o.bands, `${f}.bands`);
    if (bands?.length !== 3) throw new SpecError(`${f}.bands: exactly three bands (red, green, blue)`);
    for (const k of ['minimum', 'stretch', 'Q']) {
      if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isFinite(o[k]))) {
        throw new SpecError(`${f}.${k}: expected a number`);
      }
    }
    return { ...o, method, bands: [bands[0], bands[1], bands[2]] } as Colour;
  });
}

/** Reads a shard spec; relative paths are taken from the spec file's directory. */
export function loadSpec(path: string): ShardSpec {
  const base = resolve(path, '..');
  const at = (p: unknown, field: string): string => {
    if (typeof p !== 'string' || p === '') throw new SpecError(`${field}: expected a path`);
    return isAbsolute(p) ? p : join(base, p);
  };
  const o = JSON.parse(readFileSync(path, 'utf8')) as Json;
  const root = at(o.root, 'root');
  const positions =
    typeof o.positions === 'string'
      ? o.positions
      : readFileSync(at(o.positionsFile, 'positionsFile'), 'utf8');
  const index: TileIndex =
    o.index === undefined
      ? buildIndex(root)
      : (JSON.parse(readFileSync(at(o.index, 'index'), 'utf8')) as TileIndex);
  let size: ShardSpec['size'];
  if (o.size !== undefined) {
    const s = o.size as Json;
    if (typeof s.x !== 'number' || typeof s.y !== 'number')
      throw new SpecError('size: expected {x, y, unit}');
    size = {
      x: s.x,
      y: s.y,
      unit: oneOf(s.unit, ['arcsec', 'arcmin', 'deg', 'pix'] as const, 'size.unit') ?? 'arcmin',
    };
  }
  const spec: ShardSpec = {
    positions,
    root,
    index,
    outputDir: at(o.outputDir, 'outputDir'),
    ...(size && { size }),
    ...(o.bands !== undefined && { bands: strings(o.bands, 'bands') }),
    ...(o.hdus !== undefined && { hdus: strings(o.hdus, 'hdus') }),
    ...(o.edgePolicy !== undefined && {
      edgePolicy: oneOf(o.edgePolicy, ['pad', 'trim', 'error'] as const, 'edgePolicy'),
    }),
    ...(o.multiTilePolicy !== undefined && {
      multiTilePolicy: oneOf(o.multiTilePolicy, ['mosaic', 'best-tile', 'error'] as const, 'multiTilePolicy'),
    }),
    ...(o.colour !== undefined && { colour: colours(o.colour) }),
  } as ShardSpec;
  return spec;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new SpecError(`${name}: expected a positive integer`);
  return v;
}

export function main(args: string[]): number {
  const [cmd, arg, out] = args;
  try {
    if (cmd === 'shard' && arg) {
      const { summary } = runShard(loadSpec(arg));
      console.log(JSON.stringify(summary));
      return 0;
    }
    if (cmd === 'index' && arg) {
      const index = buildIndex(arg);
      writeFileAtomic(out ?? join(arg, 'tiles.json'), JSON.stringify(index, null, 1) + '\n');
      console.log(
        `indexed ${index.tiles.length} tiles, bands ${index.bands.join('')}, skipped ${index.skipped.length}`,
      );
      return 0;
    }
    if (cmd === 'survey' && arg) {
      const s = generateSurvey({
        dir: arg,
        tileSize: flag(args, '--tile-size', 512),
        tilesPerSide: flag(args, '--tiles', 3),
      });
      writeFileAtomic(join(arg, 'tiles.json'), JSON.stringify(buildIndex(arg), null, 1) + '\n');
      const lines = ['ID,RA,DEC,' + s.bands.map((b) => `FLUX_${b.toUpperCase()}`).join(',')];
      for (const st of s.stars)
        lines.push(
          [
            st.id,
            st.ra.toFixed(8),
            st.dec.toFixed(8),
            ...s.bands.map((b) => (st.flux[b] ?? 0).toFixed(3)),
          ].join(','),
        );
      writeFileAtomic(join(arg, 'stars.csv'), lines.join('\n') + '\n');
      console.log(`wrote ${s.files.length} files, ${s.stars.length} stars`);
      return 0;
    }
    console.error(
      'usage: main.ts shard SPEC.json | index ROOT [OUT.json] | survey DIR [--tile-size N] [--tiles K]',
    );
    return 2;
  } catch (e) {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    return e instanceof SpecError ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === `file://${resolve(process.argv[1])}`) {
  process.exitCode = main(process.argv.slice(2));
}
