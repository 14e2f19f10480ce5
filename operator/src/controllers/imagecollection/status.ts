// Pure: an ImageCollection's status from its indexing Job and that Job's pods.
import type { KubeObject } from '../../api/object.js';
import type { ImageCollection, ImageCollectionStatus } from '../../api/v1alpha1/index.js';
import { CONDITION, rfc3339, setCondition } from '../../meta/index.js';
import { jobOutcome, terminationMessage } from '../cutoutjob/runner-pod.js';
import { coverageOf, INDEX_FILE, parseIndexReport, ReportError, S3_INDEX_FILE } from './build.js';

/** The status of `c` given its current indexing Job (undefined: not made yet) and that Job's pods. */
export function collectionStatus(
  c: ImageCollection,
  jobName: string,
  job: KubeObject | undefined,
  pods: readonly KubeObject[],
  now: Date,
): ImageCollectionStatus {
  const gen = c.metadata.generation;
  const prev = c.status ?? {};
  const base = { ...(gen === undefined ? {} : { observedGeneration: gen }), indexJob: jobName };
  const ready = (status: 'True' | 'False', reason: string, message: string) =>
    setCondition(
      prev.conditions,
      {
        type: CONDITION.Ready,
        status,
        reason,
        message,
        ...(gen === undefined ? {} : { observedGeneration: gen }),
      },
      now,
    );
  const out = jobOutcome(job);
  if (!out.done) {
    const where =
      c.spec.source.s3 !== undefined
        ? `in bucket ${c.spec.source.s3.bucket}`
        : `on claim ${c.spec.source.persistentVolumeClaim?.claimName ?? ''}`;
    const message = `indexing the tiles ${where} (Job ${jobName})`;
    return { ...base, phase: 'Indexing', message, conditions: ready('False', 'Indexing', message) };
  }
  const failed = (reason: string, message: string): ImageCollectionStatus => ({
    ...base,
    phase: 'Failed',
    message,
    conditions: ready('False', reason, message),
  });
  if (!out.ok)
    return failed('IndexJobFailed', `indexing Job ${jobName} failed: ${out.reason} ${out.message}`.trim());
  const msg = terminationMessage(pods);
  if (msg === undefined)
    return failed('IndexReportMissing', `indexing Job ${jobName} succeeded but its pod left no report`);
  let report;
  try {
    report = parseIndexReport(msg);
  } catch (e) {
    if (e instanceof ReportError) return failed('IndexReportInvalid', e.message);
    throw e;
  }
  const finished = (job?.['status'] as { completionTime?: string } | undefined)?.completionTime;
  const message =
    `${report.tiles} tiles in bands ${report.bands.join('')}` +
    (report.skipped > 0 ? `, ${report.skipped} files skipped (reasons in ${INDEX_FILE})` : '') +
    (report.footprints === undefined ? '; too many tiles to list footprints: jobs shard by input order' : '');
  const coverage = coverageOf(report.footprints ?? []);
  return {
    ...base,
    phase: report.tiles > 0 ? 'Ready' : 'Failed',
    message: report.tiles > 0 ? message : `no tiles found: ${message}`,
    tiles: report.tiles,
    bands: [...report.bands],
    skipped: report.skipped,
    ...(coverage !== undefined && { coverage }),
    indexPath: c.spec.source.s3 !== undefined ? S3_INDEX_FILE : INDEX_FILE,
    ...(report.largestTileBytes !== undefined && { largestTileBytes: report.largestTileBytes }),
    indexedAt: finished ?? prev.indexedAt ?? rfc3339(now),
    ...(report.footprints !== undefined && { footprints: [...report.footprints] }),
    conditions:
      report.tiles > 0
        ? ready('True', 'Indexed', message)
        : ready('False', 'NoTiles', `no tiles found: ${message}`),
  };
}

/** Whether two statuses say the same (conditions compared without their transition times). */
export function sameCollectionStatus(
  a: ImageCollectionStatus | undefined,
  b: ImageCollectionStatus,
): boolean {
  const strip = (s: ImageCollectionStatus | undefined) =>
    JSON.stringify({ ...s, conditions: s?.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) });
  return strip(a) === strip(b);
}
