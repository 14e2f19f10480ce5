// Drives a writer into a file: begin, each batch as it arrives, end, then the in-place patches (FITS's
// NAXIS2). Memory holds one batch's bytes at a time.

import { open } from 'node:fs/promises';
import type { ResultStatus, ResultWriter, Row } from './types.js';

/** Bytes written and rows seen. */
export interface WriteSummary {
  readonly bytes: number;
  readonly rows: number;
}

/**
 * Writes a whole result to `path` (created or truncated). `batches` yields rows in order; `status` is
 * read after the last batch (the reader knows only then whether it stopped at maxRecords).
 */
export async function writeToFile(
  path: string,
  writer: ResultWriter,
  batches: AsyncIterable<readonly Row[]> | Iterable<readonly Row[]>,
  status: () => ResultStatus = () => ({ overflow: false }),
): Promise<WriteSummary> {
  const fh = await open(path, 'w');
  try {
    let bytes = 0;
    let rows = 0;
    const put = async (b: Uint8Array): Promise<void> => {
      if (b.length > 0) await fh.write(b, 0, b.length, bytes);
      bytes += b.length;
    };
    await put(writer.begin());
    for await (const batch of batches) {
      rows += batch.length;
      await put(writer.rows(batch));
    }
    await put(writer.end(status()));
    for (const p of writer.patches()) await fh.write(p.bytes, 0, p.bytes.length, p.offset);
    return { bytes, rows };
  } finally {
    await fh.close();
  }
}
