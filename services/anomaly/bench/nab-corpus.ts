// The NAB corpus carried in data/nab, loaded for bench:nab.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseNabTimestamp, type NabSeries, type NabWindow } from '../src/stream/nab-scorer.js';

export const NAB_DIR = fileURLToPath(new URL('./data/nab', import.meta.url));

/** One series: its records' timestamps (ms), values, original text lines and labelled windows. */
export interface Series extends NabSeries {
  readonly values: Float64Array;
  readonly text: string[];
}

/** Every series whose name (`category/file.csv`) contains `only`, in NAB's order. */
export function loadCorpus(only: string | undefined): Series[] {
  const windows = JSON.parse(readFileSync(join(NAB_DIR, 'labels/combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const out: Series[] = [];
  for (const category of readdirSync(join(NAB_DIR, 'data')).sort()) {
    for (const file of readdirSync(join(NAB_DIR, 'data', category)).sort()) {
      const name = `${category}/${file.replace(/\.gz$/, '')}`;
      if (only && !name.includes(only)) continue;
      const lines = gunzipSync(readFileSync(join(NAB_DIR, 'data', category, file)))
        .toString('utf8')
        .trim()
        .split('\n')
        .slice(1);
      const timestamps = new Float64Array(lines.length);
      const values = new Float64Array(lines.length);
      const text: string[] = [];
      lines.forEach((line, i) => {
        const [t = '', v = ''] = line.split(',');
        timestamps[i] = parseNabTimestamp(t);
        values[i] = Number(v);
        if (!Number.isFinite(timestamps[i]) || !Number.isFinite(values[i])) {
          throw new Error(`${name}: row ${i + 2} is not "timestamp,value": ${line}`);
        }
        text.push(line.trim());
      });
      const w = windows[name];
      if (!w) throw new Error(`${name}: no entry in labels/combined_windows.json`);
      const parsed = w.map(([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as NabWindow);
      out.push({ name, timestamps, values, text, windows: parsed });
    }
  }
  return out;
}
