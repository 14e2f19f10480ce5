// The result formats by name: one place maps a QueryJob's output.format to its writer, media type, file
// extension and whether gzip applies.

import { DelimitedWriter } from './delimited.js';
import { FitsWriter } from './fits.js';
import { Hdf5Writer } from './hdf5.js';
import { JsonWriter } from './json.js';
import { ParquetResultWriter } from './parquet.js';
import { FormatError, type AnyWriter, type Column } from './types.js';
import { VotableWriter } from './votable.js';

export * from './types.js';
export { writeToFile, type WriteSummary } from './sink.js';

/** Formats this module writes. */
export const FORMATS = [
  'csv',
  'tsv',
  'json',
  'fits',
  'votable',
  'votable-binary2',
  'parquet',
  'hdf5',
] as const;
export type Format = (typeof FORMATS)[number];

interface FormatInfo {
  /** File name extension, before `.gz`. */
  readonly extension: string;
  /** Whether `compression: gzip` applies (Parquet and HDF5 compress inside the file). */
  readonly gzip: boolean;
}

export const FORMAT_INFO: Readonly<Record<Format, FormatInfo>> = {
  csv: { extension: '.csv', gzip: true },
  tsv: { extension: '.tsv', gzip: true },
  json: { extension: '.json', gzip: true },
  fits: { extension: '.fits', gzip: true },
  votable: { extension: '.vot', gzip: true },
  'votable-binary2': { extension: '.vot', gzip: true },
  parquet: { extension: '.parquet', gzip: false },
  hdf5: { extension: '.h5', gzip: false },
};

export function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

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
