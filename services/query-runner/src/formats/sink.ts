// Drives a writer into a file: begin, each batch as it arrives, end, then the in-place patches (FITS's
// NAXIS2). Memory holds one batch's bytes at a time. A FileWriter (HDF5) writes the file itself.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { sliceBatch, type Batch } from './tuples.js';
import { isFileWriter, type AnyWriter, type ResultStatus, type ResultWriter } from './types.js';

/**
 * The most output bytes one rows() call makes for a writer with fixed-size rows (ResultWriter.rowBytes):
 * a batch of wider rows is written in parts.
 */
export const MAX_WRITE_BYTES = 4 << 20;

/** Bytes written and rows seen. */
export interface WriteSummary {
  readonly bytes: number;
  readonly rows: number;
}

/**
 * One file being written, batch by batch: `write(batch)` then `finish(status)` once, or `abort()` after
 * a failure (the file is left for the caller to remove). `bytes` is the file's size so far.
 */
export interface FileSink {
  readonly rows: number;
  readonly bytes: number;
  write(batch: Batch): Promise<void>;
  finish(status: ResultStatus): Promise<WriteSummary>;
  abort(): Promise<void>;
}

/** Opens `path` (created or truncated) for `writer`. */
export async function openSink(path: string, writer: AnyWriter): Promise<FileSink> {
  if (isFileWriter(writer)) {
    await writer.open(path);
    let rows = 0;
    let bytes = 0;
    return {
      get rows() {
        return rows;
      },
      get bytes() {
        return bytes;
      },
      async write(batch) {
        writer.rows(batch);
        rows += batch.length;
        bytes = (await stat(path)).size;
      },
      async finish(status) {
        writer.end(status);
        bytes = (await stat(path)).size;
        return { bytes, rows };
      },
      abort() {
        writer.close();
        return Promise.resolve();
      },
    };
  }
  const fh = await open(path, 'w');
  try {
    const sink = new ByteSink(fh, writer);
    await sink.put(writer.begin());
    return sink;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

class ByteSink implements FileSink {
  rows = 0;
  bytes = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly writer: ResultWriter,
  ) {}

  async put(b: Uint8Array): Promise<void> {
    if (b.length > 0) await this.fh.write(b, 0, b.length, this.bytes);
    this.bytes += b.length;
  }

  async write(batch: Batch): Promise<void> {
    this.rows += batch.length;
    const perRow = this.writer.rowBytes;
    // Parts of at most MAX_WRITE_BYTES of output (at least one row), in order: the same bytes as one call.
    const step = perRow === undefined ? batch.length : Math.max(1, Math.floor(MAX_WRITE_BYTES / perRow));
    if (step >= batch.length) return this.put(this.writer.rows(batch));
    for (let from = 0; from < batch.length; from += step)
      await this.put(this.writer.rows(sliceBatch(batch, from, Math.min(from + step, batch.length))));
  }

  async finish(status: ResultStatus): Promise<WriteSummary> {
    try {
      await this.put(this.writer.end(status));
      for (const p of this.writer.patches()) await this.fh.write(p.bytes, 0, p.bytes.length, p.offset);
      return { bytes: this.bytes, rows: this.rows };
    } finally {
      await this.fh.close();
    }
  }

  async abort(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * Writes a whole result to `path` (created or truncated). `batches` yields rows in order; `status` is
 * read after the last batch (the reader knows only then whether it stopped at maxRecords).
 */
export async function writeToFile(
  path: string,
  writer: AnyWriter,
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  status: () => ResultStatus = () => ({ overflow: false }),
): Promise<WriteSummary> {
  const sink = await openSink(path, writer);
  try {
    for await (const batch of batches) await sink.write(batch);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return sink.finish(status());
}
