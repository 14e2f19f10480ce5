// The CutoutJob's end event (golden JSON files): a COMPLETED job's counts, results URL and files, an ERROR job's
// Degraded reason. Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CutoutJob } from '../../api/v1alpha1/index.js';
import { buildEvent } from '../../runtime/index.js';
import { StatusBuilder } from './status.js';
import { cutout } from './fixtures.test-util.js';
import { cutoutJobFacts } from './notify.js';

function golden(name: string, value: unknown): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.json`, import.meta.url));
  const doc = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, doc);
  expect(doc).toBe(readFileSync(path, 'utf8'));
}

const NOW = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));

function ended(status: NonNullable<CutoutJob['status']>): CutoutJob {
  return { ...cutout({ notify: { webhook: { url: 'https://portal.example.org/hooks/jobs' } } }), status };
}

describe('cutoutJobFacts → buildEvent', () => {
  it('golden: COMPLETED with counts, bytes, results URL and files', () => {
    const job = ended({
      phase: 'COMPLETED',
      startTime: '2026-12-01T11:59:00Z',
      endTime: '2026-12-01T12:00:00Z',
      shards: 2,
      counts: { positions: 3, done: 3, ok: 2, partial: 0, unmatched: 1, failed: 0 },
      files: 4,
      bytes: 1_048_576,
      resultsUrl: 'http://results.des-cutouts.svc:8080/cutoutjobs/lens-candidates',
      results: [{ id: 'manifest', path: 'lens-candidates/manifest.csv', size: 210, sha256: 'c'.repeat(64) }],
    });
    const e = buildEvent(job, 'COMPLETED', cutoutJobFacts(job));
    expect(e.result?.summary).toMatchObject({ positions: 3, ok: 2, unmatched: 1, bytes: 1_048_576 });
    expect(e.result?.url).toBe(job.status?.resultsUrl);
    golden('event-completed', e);
  });

  it('golden: ERROR names the Degraded reason and message the TerminalError recorded', () => {
    const base = cutout({ notify: { webhook: { url: 'https://portal.example.org/hooks/jobs' } } });
    const status = new StatusBuilder(base, NOW).phase(
      'ERROR',
      'MergeFailed',
      'merge Job failed: BackoffLimitExceeded',
    );
    const job = { ...base, status };
    const e = buildEvent(job, 'ERROR', cutoutJobFacts(job));
    expect(e.error).toEqual({ code: 'MergeFailed', message: 'merge Job failed: BackoffLimitExceeded' });
    golden('event-error', e);
  });
});
