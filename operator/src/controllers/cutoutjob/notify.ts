// Pure: what a CutoutJob's end notification says (runtime/notify.ts builds and sends the event).
import type { CutoutJob } from '../../api/v1alpha1/index.js';
import { CONDITION } from '../../meta/index.js';
import type { JobFacts } from '../../runtime/index.js';

/** The event's fields from a CutoutJob's status: phase, times, counts, result files and URL, or the error. */
export function cutoutJobFacts(job: CutoutJob): JobFacts {
  const st = job.status ?? {};
  const c = st.counts ?? {};
  const numbers = {
    ...c,
    ...(st.files !== undefined && { files: st.files }),
    ...(st.bytes !== undefined && { bytes: st.bytes }),
    ...(st.shards !== undefined && { shards: st.shards }),
  };
  const degraded = st.conditions?.find((x) => x.type === CONDITION.Degraded && x.status === 'True');
  return {
    phase: st.phase,
    owner: job.spec.owner,
    ...(job.spec.runId !== undefined && { runId: job.spec.runId }),
    ...(st.startTime !== undefined && { startTime: st.startTime }),
    ...(st.endTime !== undefined && { endTime: st.endTime }),
    ...(Object.keys(numbers).length > 0 && { summary: numbers }),
    ...(st.resultsUrl !== undefined && { resultsUrl: st.resultsUrl }),
    ...(st.results !== undefined && {
      files: st.results.map((r) => ({
        name: r.path,
        ...(r.size !== undefined && { bytes: r.size }),
        ...(r.sha256 !== undefined && { sha256: r.sha256 }),
      })),
    }),
    ...(st.phase === 'ERROR' && {
      error: { code: degraded?.reason ?? 'Error', message: degraded?.message ?? st.message ?? '' },
    }),
  };
}
