// The runner Job's outcome as kube-controller-manager and the kubelet report it: conditions, pods' termination
// messages → UWS phase, results, error.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/index.js';
import { jobOutcome, resultsOf } from './outcome.js';

const SHA = 'ab'.repeat(32);

function job(status: Record<string, unknown>): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'q-run' }, status };
}

function pod(
  phase: string,
  terminated?: { exitCode: number; message?: string; finishedAt?: string },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `q-run-${Math.random()}` },
    status: {
      phase,
      containerStatuses: [
        { name: 'runner', state: terminated === undefined ? { running: {} } : { terminated } },
      ],
    },
  };
}

const cond = (type: string, extra: Record<string, string> = {}) => ({
  type,
  status: 'True',
  lastTransitionTime: '2026-12-01T10:05:00Z',
  ...extra,
});

describe('jobOutcome', () => {
  it('QUEUED while no pod runs, EXECUTING once one does', () => {
    expect(jobOutcome(job({}), []).phase).toBe('QUEUED');
    expect(jobOutcome(job({ active: 1 }), [pod('Pending')]).phase).toBe('QUEUED');
    expect(jobOutcome(job({ active: 1 }), [pod('Running')]).phase).toBe('EXECUTING');
  });

  it('COMPLETED with the files, rows and overflow of the succeeded pod', () => {
    const message = JSON.stringify({
      rows: 12,
      bytes: 300,
      overflow: true,
      files: [
        { name: 'result.csv', mediaType: 'text/csv', rows: 12, bytes: 300, sha256: SHA },
        { name: 'result.provenance.json', mediaType: 'application/json', rows: 0, bytes: 900, sha256: SHA },
      ],
    });
    const o = jobOutcome(job({ succeeded: 1, failed: 1, conditions: [cond('Complete')] }), [
      pod('Failed', { exitCode: 75, finishedAt: '2026-12-01T10:01:00Z' }),
      pod('Succeeded', { exitCode: 0, message, finishedAt: '2026-12-01T10:04:00Z' }),
    ]);
    expect(o).toEqual({
      phase: 'COMPLETED',
      attempts: 2,
      rows: 12,
      overflow: true,
      endTime: '2026-12-01T10:05:00Z',
      results: [
        { name: 'result.csv', format: 'text/csv', rows: 12, bytes: 300, sha256: SHA },
        { name: 'result.provenance.json', format: 'application/json', rows: 0, bytes: 900, sha256: SHA },
      ],
    });
  });

  it("ERROR with the last failed pod's {type, code, message}", () => {
    const first = JSON.stringify({ error: { type: 'transient', code: 'ConnectionLost', message: 'reset' } });
    const last = JSON.stringify({
      error: { type: 'transient', code: 'DatabaseUnavailable', message: 'down' },
    });
    const o = jobOutcome(
      job({ failed: 2, conditions: [cond('Failed', { reason: 'BackoffLimitExceeded' })] }),
      [
        pod('Failed', { exitCode: 75, message: last, finishedAt: '2026-12-01T10:03:00Z' }),
        pod('Failed', { exitCode: 75, message: first, finishedAt: '2026-12-01T10:01:00Z' }),
      ],
    );
    expect(o.phase).toBe('ERROR');
    expect(o.attempts).toBe(2);
    expect(o.error).toEqual({ type: 'transient', code: 'DatabaseUnavailable', message: 'down' });
  });

  it('ERROR ExecutionDurationExceeded when the Job deadline passed; RunnerFailed without a message', () => {
    const deadline = jobOutcome(
      job({
        conditions: [
          cond('Failed', {
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          }),
        ],
      }),
      [],
    );
    expect(deadline.error).toMatchObject({ type: 'fatal', code: 'ExecutionDurationExceeded' });
    const bare = jobOutcome(job({ conditions: [cond('Failed', { reason: 'PodFailurePolicy' })] }), [
      pod('Failed', { exitCode: 1, message: 'not json' }),
    ]);
    expect(bare.error).toMatchObject({ type: 'fatal', code: 'RunnerFailed' });
  });

  it('drops malformed result entries', () => {
    expect(
      resultsOf([
        { name: 'a', mediaType: 'text/csv', bytes: 1, sha256: 'nothex' },
        { name: 'b', mediaType: 'text/csv', bytes: -1, sha256: SHA },
        { name: 'c', mediaType: 'text/csv', bytes: 1, sha256: SHA },
        null,
      ]),
    ).toEqual([{ name: 'c', format: 'text/csv', bytes: 1, sha256: SHA }]);
    expect(resultsOf('x')).toEqual([]);
  });
});
