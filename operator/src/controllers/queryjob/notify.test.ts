// The QueryJob's end event (golden JSON files): a COMPLETED job's rows and files, an ERROR job's error.
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { QueryJob } from '../../api/v1alpha1/index.js';
import { buildEvent } from '../../runtime/index.js';
import { queryJobFixture } from './fixtures.test-util.js';
import { queryJobFacts } from './notify.js';

function golden(name: string, value: unknown): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.json`, import.meta.url));
  const doc = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, doc);
  expect(doc).toBe(readFileSync(path, 'utf8'));
}

function ended(status: NonNullable<QueryJob['status']>): QueryJob {
  return {
    ...queryJobFixture({ notify: { webhook: { url: 'https://portal.example.org/hooks/jobs' } } }),
    status,
  };
}

describe('queryJobFacts → buildEvent', () => {
  it('golden: COMPLETED with rows, overflow and the result files', () => {
    const qj = ended({
      phase: 'COMPLETED',
      startTime: '2026-12-01T10:00:02Z',
      endTime: '2026-12-01T10:00:40Z',
      rows: 1000,
      overflow: true,
      results: [
        { name: 'result.csv', format: 'text/csv', rows: 1000, bytes: 48213, sha256: 'a'.repeat(64) },
        { name: 'provenance.json', format: 'application/json', bytes: 812, sha256: 'b'.repeat(64) },
      ],
    });
    const e = buildEvent(qj, 'COMPLETED', queryJobFacts(qj));
    expect(e.result?.summary).toEqual({ rows: 1000, overflow: true });
    expect(e.result?.files?.map((f) => f.name)).toEqual(['result.csv', 'provenance.json']);
    golden('event-completed', e);
  });

  it('golden: ERROR carries the type, code and message, and no result', () => {
    const qj = ended({
      phase: 'ERROR',
      endTime: '2026-12-01T10:00:01Z',
      error: {
        type: 'fatal',
        code: 'QuoteOverLimit',
        message: 'estimated 2.1e9 rows exceed maxEstimatedRows 1e8',
      },
    });
    const e = buildEvent(qj, 'ERROR', queryJobFacts(qj));
    expect(e.error?.code).toBe('QuoteOverLimit');
    expect(e).not.toHaveProperty('result');
    expect(e.idempotencyKey).toBe(`${qj.metadata.uid}/ERROR`);
    golden('event-error', e);
  });
});
