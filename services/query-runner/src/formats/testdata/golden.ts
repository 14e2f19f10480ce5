// Golden files for the writers' unit tests: SKYPORT_UPDATE_GOLDEN=1 rewrites them; otherwise the bytes
// must match exactly. The astropy compatibility test (test/compat.int.test.ts) is what says they are right.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Batch } from '../tuples.js';
import { isFileWriter, type AnyWriter, type ResultStatus } from '../types.js';

const DIR = join(import.meta.dirname, '..', '__golden__');

/** The whole output of `writer` for `batches`, patches applied (as writeToFile does on a file). */
export function render(writer: AnyWriter, batches: readonly Batch[], status?: ResultStatus): Buffer {
  if (isFileWriter(writer)) throw new Error('render: a FileWriter writes its own file');
  const parts = [
    writer.begin(),
    // Copied: a writer's rows() bytes are valid until its next call.
    ...batches.map((b) => Buffer.from(writer.rows(b))),
    writer.end(status ?? { overflow: false }),
  ];
  const out = Buffer.concat(parts);
  for (const p of writer.patches()) out.set(p.bytes, p.offset);
  return out;
}

export function expectGolden(name: string, bytes: Buffer): void {
  const path = join(DIR, name);
  if (process.env['SKYPORT_UPDATE_GOLDEN'] === '1') writeFileSync(path, bytes);
  expect(bytes.equals(readFileSync(path)), `${name} differs from its golden file`).toBe(true);
}
