// Writes files so that a reader never sees half of one: the bytes go to a temporary name in the same
// directory, then a rename puts them in place (atomic on POSIX file systems). A killed writer leaves at
// most a `.tmp-*` file behind, never a truncated result under the final name.

import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}-${basename(path)}`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
