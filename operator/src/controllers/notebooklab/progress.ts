// How often a starting lab's status is written: the status-write policy of the NotebookLab controller.
import type { NotebookLab } from '../../api/v1alpha1/index.js';

/**
 * A starting lab's progress-only change (see {@link progressOnly}) is written once it has waited this long, or with
 * the next change that cannot wait (Running, Failed, a new Degraded reason), whichever comes first. A lab that
 * starts within this time gets two status writes — Pending, then Running with every step's timestamp — instead
 * of one per step; each write of a custom resource's status costs the apiserver several ms of CPU. (Deferring the
 * first Pending write too saved only ~6 % of status writes at 1,000 labs and delays the first feedback: not done.)
 */
export const PROGRESS_WRITE_DELAY_MS = 5_000;

const STARTING_PHASES: readonly string[] = ['Pending', 'Starting'];

/**
 * True when `next` only moves a starting lab along: both are Pending or Starting, and no condition changes status
 * and Degraded keeps its reason (Pending → Starting changes only Ready's and Progressing's reason, which name the
 * phase). Such a change can wait; the step timestamps in `progress` keep when each step really happened.
 */
export function progressOnly(
  prev: NonNullable<NotebookLab['status']>,
  next: NonNullable<NotebookLab['status']>,
): boolean {
  if (!STARTING_PHASES.includes(prev.phase ?? '') || !STARTING_PHASES.includes(next.phase ?? ''))
    return false;
  const sig = (st: NonNullable<NotebookLab['status']>): string =>
    (st.conditions ?? [])
      .map(
        (c) => `${c.type}=${c.status}${c.type === 'Ready' || c.type === 'Progressing' ? '' : `/${c.reason}`}`,
      )
      .join(',');
  return sig(prev) === sig(next);
}
