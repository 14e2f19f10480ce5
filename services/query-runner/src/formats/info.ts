// The result formats by name — extension and whether gzip applies — without loading any writer (the CSV/TSV
// path from COPY needs the names only, not the Parquet or HDF5 libraries).

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
  /**
   * Whether the writer reads binary COPY tuples as they are (formats/tuples.ts), making no object per row:
   * the runner then has no rows' garbage to collect.
   */
  readonly tuples: boolean;
}

export const FORMAT_INFO: Readonly<Record<Format, FormatInfo>> = {
  csv: { extension: '.csv', gzip: true, tuples: false },
  tsv: { extension: '.tsv', gzip: true, tuples: false },
  json: { extension: '.json', gzip: true, tuples: false },
  fits: { extension: '.fits', gzip: true, tuples: true },
  votable: { extension: '.vot', gzip: true, tuples: false },
  'votable-binary2': { extension: '.vot', gzip: true, tuples: false },
  parquet: { extension: '.parquet', gzip: false, tuples: true },
  hdf5: { extension: '.h5', gzip: false, tuples: false },
};

export function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}
