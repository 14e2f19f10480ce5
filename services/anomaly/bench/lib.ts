// Shared benchmark helpers: AUROC, the ODDS CSV loader, the shared binary data file, timing statistics.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Matrix } from '../src/engine/index.js';

/** A labelled dataset: features plus 1 = outlier, 0 = inlier. */
export interface Labelled {
  readonly x: Matrix;
  readonly y: Uint8Array;
}

export { auroc } from '../src/engine/index.js';

/** The ODDS files carried in the repository (gzipped; attribution and terms in its README.md). */
export const ODDS_DIR = fileURLToPath(new URL('./data/odds', import.meta.url));

/**
 * Loads an ODDS CSV (`#` comment lines, comma-separated features, 0/1 label last, no header), gzipped when
 * the path ends in `.gz`.
 */
export function loadOdds(path: string): Labelled {
  const raw = readFileSync(path);
  const lines = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
  const values: number[] = [];
  const labels: number[] = [];
  let cols = -1;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(',').map(Number);
    const c = parts.length - 1;
    if (cols < 0) cols = c;
    if (c !== cols) throw new Error(`${path}: row with ${c} features, expected ${cols}`);
    if (parts.some((v) => !Number.isFinite(v)))
      throw new Error(`${path}: non-numeric value in row ${labels.length + 1}`);
    for (let k = 0; k < c; k++) values.push(parts[k]!);
    labels.push(parts[c]!);
  }
  return {
    x: { data: Float64Array.from(values), rows: labels.length, cols },
    y: Uint8Array.from(labels),
  };
}

/** The shared speed-benchmark data: `<base>.f64` (row-major float64 LE), `<base>.y` (u8 labels), `<base>.json`. */
export function writeShared(base: string, d: Labelled): void {
  writeFileSync(`${base}.f64`, new Uint8Array(d.x.data.buffer, d.x.data.byteOffset, d.x.data.byteLength));
  writeFileSync(`${base}.y`, d.y);
  writeFileSync(`${base}.json`, JSON.stringify({ rows: d.x.rows, cols: d.x.cols }));
}

/** Reads the files {@link writeShared} wrote. */
export function readShared(base: string): Labelled {
  const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { rows: number; cols: number };
  const raw = readFileSync(`${base}.f64`);
  const data = new Float64Array(raw.byteLength / 8);
  new Uint8Array(data.buffer).set(raw);
  return { x: { data, rows: meta.rows, cols: meta.cols }, y: new Uint8Array(readFileSync(`${base}.y`)) };
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Mean of a list of numbers. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
