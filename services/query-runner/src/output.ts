// A result as files: one file, or numbered parts when `splitMaxBytes` is set (each part a whole file of
// its format, so each opens on its own), optionally gzipped. Every file is first written under a
// `.partial` name and renamed only once the whole result is complete, so a crash leaves no final file and
// a rerun writes the same names again. Each file is described by its size and sha256.

import { createWriter } from './formats/index.js';
import { openSink, type FileSink } from './formats/sink.js';
import type { Batch } from './formats/tuples.js';
import type { Column, ResultStatus } from './formats/types.js';
import {
  checkOutput,
  complete,
  partialPath,
  removePartials,
  type OutputOptions,
  type ResultSummary,
} from './files.js';

export * from './files.js';

interface Part {
  readonly n: number;
  readonly sink: FileSink;
  /** Where the writer writes (uncompressed). */
  readonly raw: string;
}

/**
 * Writes `batches` as the result files and renames them into place once all are complete; on an error
 * the `.partial` files are removed and the error passes on.
 */
export async function writeResult(
  columns: readonly Column[],
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  status: () => ResultStatus,
  opts: OutputOptions,
): Promise<ResultSummary> {
  checkOutput(opts);
  const split = opts.splitMaxBytes !== undefined;
  const mediaType = createWriter(opts.format, columns).mediaType;
  const done: { n: number; rows: number }[] = [];
  const open = async (n: number): Promise<Part> => {
    const raw = partialPath(opts, split ? n : 0);
    return { n, raw, sink: await openSink(raw, createWriter(opts.format, columns)) };
  };
  let part: Part | undefined;
  let before = 0;
  try {
    part = await open(1);
    for await (const batch of batches) {
      if (split && part.sink.rows > 0 && part.sink.bytes >= (opts.splitMaxBytes ?? Infinity)) {
        // Earlier parts never had an overflow: rows followed them.
        const s = await part.sink.finish({ overflow: false });
        done.push({ n: part.n, rows: s.rows });
        before += s.bytes;
        part = await open(part.n + 1);
      }
      await part.sink.write(batch);
      opts.onProgress?.({
        rows: done.reduce((a, d) => a + d.rows, 0) + part.sink.rows,
        bytes: before + part.sink.bytes,
      });
    }
    const s = await part.sink.finish(status());
    done.push({ n: part.n, rows: s.rows });
    part = undefined;
    return await complete(done, split, mediaType, opts);
  } catch (err) {
    await part?.sink.abort().catch(() => undefined);
    await removePartials(opts.dir, opts.stem).catch(() => undefined);
    throw err;
  }
}
