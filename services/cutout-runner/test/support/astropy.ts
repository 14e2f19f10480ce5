// The astropy side of the compatibility tests: makes (or reuses) the cached venv (the repository's scripts/compat-venv.sh)
// and runs one command of test/support/cutout_astropy.py with a JSON request.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pixelsToBigEndian, type Pixels } from '../../src/fits/image.js';

const HERE = import.meta.dirname;

/** The venv's python, creating the venv first when it is missing. */
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

export function astropy<T>(python: string, command: string, request: unknown): T {
  const out = execFileSync(python, [join(HERE, 'cutout_astropy.py'), command], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return JSON.parse(out) as T;
}

/** sha256 of pixels as big-endian bytes: what cutout_astropy.py hashes. */
export function pixelHash(data: Pixels): string {
  const bytes = pixelsToBigEndian(data).subarray(0, data.length * data.BYTES_PER_ELEMENT);
  return createHash('sha256').update(bytes).digest('hex');
}

export interface InspectedHdu {
  readonly name: string;
  readonly class: string;
  readonly shape?: number[];
  readonly dtype?: string;
  readonly sha256?: string;
  readonly nan?: number;
  readonly checksum: boolean;
  readonly cards: Record<string, unknown>;
}
export interface Inspected {
  readonly path: string;
  readonly hdus: InspectedHdu[];
}
