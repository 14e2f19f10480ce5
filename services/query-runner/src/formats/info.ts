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
