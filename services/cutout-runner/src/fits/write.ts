// Writes files so that a reader never sees half of one: the bytes go to a temporary name in the same
// directory, then a rename puts them in place (atomic on POSIX file systems). A killed writer leaves at
// most a `.tmp-*` file behind, never a truncated result under the final name. Parts (e.g. a FITS file's HDUs)
// are written one after the other, not joined first: a cutout's bytes are copied once fewer.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}-${basename(path)}`);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) writeFileSync(tmp, data);
    else writeParts(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function writeParts(path: string, parts: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      // writeSync may write less than asked: go on from where it stopped.
      for (let done = 0; done < part.length;) done += writeSync(fd, part, done, part.length - done);
    }
  } finally {
    closeSync(fd);
  }
}
