import { describe, expect, it } from 'vitest';
import type { NotebookLab } from '../../api/v1alpha1/index.js';
import { progressOnly } from './progress.js';

type Status = NonNullable<NotebookLab['status']>;

function st(phase: string, conds: [string, string, string][]): Status {
  return {
    observedGeneration: 1,
    phase,
    conditions: conds.map(([type, status, reason]) => ({
      type,
      status,
      reason,
      message: '',
      observedGeneration: 1,
      lastTransitionTime: '2026-11-22T00:00:00Z',
    })),
  } as Status;
}

const pending = st('Pending', [
  ['Degraded', 'False', 'AsExpected'],
  ['Ready', 'False', 'Pending'],
  ['Progressing', 'True', 'Pending'],
]);
const starting = st('Starting', [
  ['Degraded', 'False', 'AsExpected'],
  ['Ready', 'False', 'Starting'],
  ['Progressing', 'True', 'Starting'],
]);

describe('progressOnly (which status changes of a starting lab may be coalesced)', () => {
  it('coalesces Pending → Starting and progress within one phase', () => {
    expect(progressOnly(pending, starting)).toBe(true);
    expect(progressOnly(starting, starting)).toBe(true);
  });

  it('writes Running at once', () => {
    const running = st('Running', [
      ['Degraded', 'False', 'AsExpected'],
      ['Ready', 'True', 'LabReady'],
      ['Progressing', 'False', 'Settled'],
    ]);
    expect(progressOnly(starting, running)).toBe(false);
  });

  it('writes a new Degraded reason at once, even while still starting', () => {
    const degraded = st('Starting', [
      ['Degraded', 'True', 'ImagePullFailed'],
      ['Ready', 'False', 'ImagePullFailed'],
      ['Progressing', 'True', 'Starting'],
    ]);
    expect(progressOnly(starting, degraded)).toBe(false);
    const other = st('Starting', [
      ['Degraded', 'True', 'CrashLoop'],
      ['Ready', 'False', 'CrashLoop'],
      ['Progressing', 'True', 'Starting'],
    ]);
    expect(progressOnly(degraded, other)).toBe(false);
  });

  it('writes a Failed or Stopping phase at once', () => {
    const failed = st('Failed', [
      ['Degraded', 'False', 'AsExpected'],
      ['Ready', 'False', 'Failed'],
      ['Progressing', 'False', 'Settled'],
    ]);
    expect(progressOnly(starting, failed)).toBe(false);
    const stopping = st('Stopping', [
      ['Degraded', 'False', 'AsExpected'],
      ['Ready', 'False', 'Stopping'],
      ['Progressing', 'True', 'Stopping'],
    ]);
    expect(progressOnly(pending, stopping)).toBe(false);
  });
});
