// Pure: what a QueryJob's end notification says (runtime/notify.ts builds and sends the event).
import type { QueryJob } from '../../api/v1alpha1/index.js';
import type { JobFacts } from '../../runtime/index.js';

/** The event's fields from a QueryJob's status: phase, times, rows and files, or the error. */
export function queryJobFacts(qj: QueryJob): JobFacts {
  const st = qj.status ?? {};
  return {
    phase: st.phase,
    owner: qj.spec.owner,
    ...(qj.spec.runId !== undefined && { runId: qj.spec.runId }),
    ...(st.startTime !== undefined && { startTime: st.startTime }),
    ...(st.endTime !== undefined && { endTime: st.endTime }),
    ...(st.rows !== undefined && {
      summary: { rows: st.rows, ...(st.overflow !== undefined && { overflow: st.overflow }) },
    }),
    ...(st.results !== undefined && {
      files: st.results.map((r) => ({ name: r.name, bytes: r.bytes, sha256: r.sha256 })),
    }),
    ...(st.error !== undefined && {
      error: { code: st.error.code, message: st.error.message, type: st.error.type },
    }),
  };
}
