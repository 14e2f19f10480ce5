// The result formats by name: one place maps a QueryJob's output.format to its writer, media type, file
// extension and whether gzip applies.

import { DelimitedWriter } from './delimited.js';
import { FitsWriter } from './fits.js';
import { Hdf5Writer } from './hdf5.js';
import { JsonWriter } from './json.js';
import { ParquetResultWriter } from './parquet.js';
import { FORMATS } from './info.js';
import { FormatError, type AnyWriter, type Column } from './types.js';
import { VotableWriter } from './votable.js';

export * from './types.js';
export * from './tuples.js';
export { writeToFile, type WriteSummary } from './sink.js';

export * from './info.js';

/** A fresh writer for `format`; throws a FormatError for an unknown name or unusable columns. */
export function createWriter(format: string, columns: readonly Column[]): AnyWriter {
  switch (format) {
    case 'csv':
      return new DelimitedWriter(columns, ',');
    case 'tsv':
      return new DelimitedWriter(columns, '\t');
    case 'json':
      return new JsonWriter(columns);
    case 'fits':
      return new FitsWriter(columns);
    case 'votable':
      return new VotableWriter(columns, 'tabledata');
    case 'votable-binary2':
      return new VotableWriter(columns, 'binary2');
    case 'parquet':
      return new ParquetResultWriter(columns);
    case 'hdf5':
      return new Hdf5Writer(columns);
    default:
      throw new FormatError('UnknownFormat', `format: '${format}' is not one of ${FORMATS.join(', ')}`);
  }
}
