// The termination message: what the operator copies into a QueryJob's status, within Kubernetes' 4096 bytes.
import { describe, expect, it } from 'vitest';
import type { Manifest } from './run.js';
import { TERMINATION_MESSAGE_MAX, terminationMessage } from './termination.js';

const file = (i: number) => ({
  name: `result_${String(i).padStart(6, '0')}.csv`,
  mediaType: 'text/csv',
  rows: 10,
  bytes: 100 + i,
  sha256: 'a'.repeat(64),
});

function manifest(files: number): Manifest {
  return {
    rows: files * 10,
    bytes: files * 100,
    overflow: false,
    files: Array.from({ length: files }, (_, i) => file(i + 1)),
  } as unknown as Manifest;
}

describe('terminationMessage', () => {
  it('lists every file and the manifest when they fit', () => {
    const m = JSON.parse(terminationMessage({ manifest: manifest(2), manifestFile: file(99) })) as {
      rows: number;
      files: { name: string }[];
      truncated?: boolean;
    };
    expect(m.rows).toBe(20);
    expect(m.files.map((f) => f.name)).toEqual([
      'result_000001.csv',
      'result_000002.csv',
      'result_000099.csv',
    ]);
    expect(m.truncated).toBeUndefined();
  });

  it('drops files that do not fit in 4096 bytes and says so', () => {
    const text = terminationMessage({ manifest: manifest(200) });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX);
    const m = JSON.parse(text) as { rows: number; files: unknown[]; truncated?: boolean };
    expect(m.truncated).toBe(true);
    expect(m.files.length).toBeGreaterThan(10);
    expect(m.files.length).toBeLessThan(200);
    expect(m.rows).toBe(2000);
  });

  it('carries an error with its type and code, the message cut to fit', () => {
    const text = terminationMessage({
      error: { type: 'fatal', code: 'UndefinedTable', message: 'x'.repeat(9000) },
    });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX);
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'fatal', code: 'UndefinedTable' } });
  });
});
