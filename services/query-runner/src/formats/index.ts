// The result formats by name: one place maps a QueryJob's output.format to its writer.

import { DelimitedWriter } from './delimited.js';
import { FitsWriter } from './fits.js';
import { JsonWriter } from './json.js';
import { FormatError, type Column, type ResultWriter } from './types.js';
import { VotableWriter } from './votable.js';

export * from './types.js';
export { writeToFile, type WriteSummary } from './sink.js';

/** Formats this module writes (Parquet and HDF5 are not written yet). */
export const FORMATS = ['csv', 'tsv', 'json', 'fits', 'votable', 'votable-binary2'] as const;
export type Format = (typeof FORMATS)[number];

/** A fresh writer for `format`; throws a FormatError for an unknown name or unusable columns. */
export function createWriter(format: string, columns: readonly Column[]): ResultWriter {
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
    default:
      throw new FormatError('UnknownFormat', `format: '${format}' is not one of ${FORMATS.join(', ')}`);
  }
}
