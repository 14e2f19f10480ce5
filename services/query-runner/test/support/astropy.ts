// The astropy side of the compatibility test: makes (or reuses) the cached venv and reads a result file
// with test/support/read_astropy.py.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const HERE = import.meta.dirname;

/** One column as astropy read it (values: null when masked, floats as float64 big-endian hex). */
export interface AstropyColumn {
  readonly name: string;
  readonly dtype: string;
  readonly unit: string | null;
  readonly ucd: string | null;
  readonly description: string | null;
  readonly values: readonly (string | boolean | null)[];
}

export interface AstropyResult {
  readonly columns: readonly AstropyColumn[];
  readonly naxis2?: number;
  readonly query_status?: readonly string[];
  /** Parquet: row groups in the file. */
  readonly row_groups?: number;
  /** HDF5: the dataset's chunk shape and maxshape (null: unlimited). */
  readonly chunks?: readonly number[];
  readonly maxshape?: readonly (number | null)[];
}

/** The venv's python, creating the venv first when it is missing (the repository's scripts/compat-venv.sh). */
export function astropyPython(): string {
  const venv = execFileSync(
    'bash',
    [join(HERE, '..', '..', '..', '..', 'scripts', 'compat-venv.sh'), join(HERE, 'requirements-compat.txt')],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  return join(venv, 'bin', 'python');
}

export function readWithAstropy(python: string, format: string, path: string): AstropyResult {
  const out = execFileSync(python, [join(HERE, 'read_astropy.py'), format, path], { encoding: 'utf8' });
  return JSON.parse(out) as AstropyResult;
}
