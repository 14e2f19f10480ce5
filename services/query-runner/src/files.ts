// Result files, whichever way their bytes are made: part names, the options and their checks, removing a killed
// attempt's `.partial` files, and completing a result — gzip, sha256, renaming every part into place at once.
// No writer is loaded here (output.ts drives the writers; csv-output.ts writes COPY's text).

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FORMAT_INFO, type Format } from './formats/info.js';

/** Suffix of a file not yet complete. */
export const PARTIAL = '.partial';

export interface OutputOptions {
  readonly format: Format;
  /** Directory the files go to (must exist). */
  readonly dir: string;
  /** File name before the part number and extension, e.g. `result`. */
  readonly stem: string;
  readonly compression?: 'none' | 'gzip';
  /**
   * Start a new part once the current one holds this many bytes (before compression), checked after each
   * batch: a part exceeds it by at most one batch and the format's trailer.
   */
  readonly splitMaxBytes?: number;
  /** Called after every batch with the totals so far. */
  readonly onProgress?: (p: { rows: number; bytes: number }) => void;
}

/** One finished file. */
export interface ResultFile {
  readonly name: string;
  readonly mediaType: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ResultSummary {
  readonly files: readonly ResultFile[];
  readonly rows: number;
  /** Bytes of the final files (compressed, when gzip). */
  readonly bytes: number;
}

/** Refuses options that cannot be honoured, naming the field. */
export function checkOutput(opts: Pick<OutputOptions, 'format' | 'compression' | 'splitMaxBytes'>): void {
  if (opts.compression === 'gzip' && !FORMAT_INFO[opts.format].gzip) {
    throw new RangeError(
      `compression: gzip does not apply to ${opts.format} (it compresses inside the file); use none`,
    );
  }
  const s = opts.splitMaxBytes;
  if (s !== undefined && !(Number.isSafeInteger(s) && s > 0)) {
    throw new RangeError(`splitMaxBytes: must be a positive integer, got ${s}`);
  }
}

/** The final name of part `n` (1-based; 0 when the result is not split). */
export function partName(opts: Pick<OutputOptions, 'format' | 'stem' | 'compression'>, n: number): string {
  const ext = FORMAT_INFO[opts.format].extension + (opts.compression === 'gzip' ? '.gz' : '');
  return n === 0 ? `${opts.stem}${ext}` : `${opts.stem}_${String(n).padStart(6, '0')}${ext}`;
}

/**
 * Where part `n` is written before it is complete: uncompressed, under its final uncompressed name + `.partial`
 * (`n` as for {@link partName}: 0 when the result is not split).
 */
export function partialPath(opts: Pick<OutputOptions, 'dir' | 'format' | 'stem'>, n: number): string {
  return join(opts.dir, partName({ ...opts, compression: 'none' }, n) + PARTIAL);
}

/** Removes `.partial` files a killed run left for this stem. */
export async function removePartials(dir: string, stem: string): Promise<void> {
  for (const f of await readdir(dir)) {
    if (f.startsWith(stem) && f.endsWith(PARTIAL)) await unlink(join(dir, f));
  }
}

/**
 * The file's sha256, read through one buffer: a read stream's chunks are each a new buffer outside the
 * heap, and at the end of a large result tens of MB of them waited for the collector (peak RSS).
 */
async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/**
 * Compresses (gzip), hashes and renames every part into place: the parts `done` were written at
 * {@link partialPath} (n 0 when not split).
 */
export async function complete(
  done: readonly { n: number; rows: number; sha256?: string }[],
  split: boolean,
  mediaType: string,
  opts: OutputOptions,
): Promise<ResultSummary> {
  const staged: { tmp: string; file: ResultFile }[] = [];
  for (const { n, rows, sha256: known } of done) {
    const k = split ? n : 0;
    const raw = partialPath(opts, k);
    const name = partName(opts, k);
    let tmp = raw;
    if (opts.compression === 'gzip') {
      // Node's gzip header carries no time or name: the same bytes in give the same bytes out.
      tmp = join(opts.dir, name + PARTIAL);
      await pipeline(createReadStream(raw), createGzip(), createWriteStream(tmp));
      await unlink(raw);
    }
    const bytes = (await stat(tmp)).size;
    // A hash taken while the part was written holds for the uncompressed file only.
    const hash = known !== undefined && tmp === raw ? known : await sha256(tmp);
    staged.push({ tmp, file: { name: basename(name), mediaType, rows, bytes, sha256: hash } });
  }
  // Renamed last, all together: a crash before this line leaves only .partial files.
  for (const { tmp, file } of staged) await rename(tmp, join(opts.dir, file.name));
  const files = staged.map((s) => s.file);
  return {
    files,
    rows: files.reduce((a, f) => a + f.rows, 0),
    bytes: files.reduce((a, f) => a + f.bytes, 0),
  };
}
