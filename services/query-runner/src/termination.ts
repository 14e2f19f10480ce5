// The runner's outcome as a Pod termination message: the operator reads it from the Pod's status (no access to
// the results volume needed) and copies it into the QueryJob's status.
import type { RunError } from './errors.js';
import type { ResultFile } from './output.js';
import type { Manifest } from './run.js';

/** Kubernetes keeps at most 4096 bytes of a container's termination message. */
export const TERMINATION_MESSAGE_MAX = 4096;

/**
 * The outcome as one JSON object for a Pod's termination message (SKYPORT_TERMINATION_LOG, e.g.
 * /dev/termination-log), which the operator copies into the QueryJob's status: rows, bytes, overflow and the files
 * (the manifest last), or the error. Files that do not fit in 4096 bytes are left out and `truncated` is set.
 */
export function terminationMessage(
  outcome: { manifest: Manifest; manifestFile?: ResultFile } | { error: RunError },
): string {
  if ('error' in outcome) {
    const m = { error: { ...outcome.error, message: outcome.error.message.slice(0, 3500) } };
    return JSON.stringify(m);
  }
  const { manifest } = outcome;
  const files = [...manifest.files, ...(outcome.manifestFile === undefined ? [] : [outcome.manifestFile])];
  const head = { rows: manifest.rows, bytes: manifest.bytes, overflow: manifest.overflow };
  for (let n = files.length; n >= 0; n--) {
    const msg = JSON.stringify({
      ...head,
      files: files.slice(0, n),
      ...(n < files.length ? { truncated: true } : {}),
    });
    if (Buffer.byteLength(msg) <= TERMINATION_MESSAGE_MAX) return msg;
  }
  return JSON.stringify({ ...head, files: [], truncated: true });
}
