// Pure: what a CutoutJob fed by `spec.positions.fromQueryJob` may do with its QueryJob — wait (not there, not
// finished, its Catalog gone), end ERROR (the QueryJob failed, was aborted or archived; a result format the planner
// cannot read; results in a bucket), or plan from the result's files on the Catalog's results claim. Decided before any Job exists.
import type { Catalog, CutoutJob, QueryJob } from '../../api/v1alpha1/index.js';
import { TerminalError } from '../../errors.js';
import { READABLE, resultFormat } from '@skyport/cutout-runner/result';

/** Where a finished QueryJob's result is: its directory on the Catalog's results claim and its data files. */
export interface QueryResult {
  readonly claimName: string;
  /** The QueryJob's directory, relative to the claim's root (`<name>-<uid>`, as the query runner writes it). */
  readonly dir: string;
  /** The result's files in order (the provenance manifest left out). */
  readonly files: readonly string[];
  /** The QueryJob's result rows, when it said. */
  readonly rows?: number;
}

/** Why the job waits for its QueryJob. */
export interface QueryWait {
  readonly reason: 'QueryJobNotFound' | 'QueryJobNotFinished' | 'CatalogNotFound';
  readonly message: string;
}

const FIELD = 'spec.positions.fromQueryJob';
const PROVENANCE = '.provenance.json';

/** Which QueryJob, and the field errors name: `spec.positions.fromQueryJob`'s, or the ID lookup's own. */
export interface QueryRef {
  readonly name: string;
  readonly field: string;
}

/**
 * The QueryJob's result, or why to wait. Throws TerminalError `QueryJobNotAvailable` when the QueryJob ended
 * without a result (ERROR, ABORTED, ARCHIVED, no file) and `UnsupportedResultFormat` when a file is not CSV, TSV or FITS.
 */
export function queryResult(
  job: CutoutJob,
  qj: QueryJob | undefined,
  catalog: Catalog | undefined,
  ref: QueryRef = { name: job.spec.positions.fromQueryJob?.name ?? '', field: FIELD },
): QueryResult | QueryWait {
  const { name, field } = ref;
  if (qj === undefined)
    return { reason: 'QueryJobNotFound', message: `waiting for QueryJob ${name} to exist` };
  const phase = qj.status?.phase;
  if (phase === 'ERROR' || phase === 'ABORTED' || phase === 'ARCHIVED') {
    const why = qj.status?.error === undefined ? '' : `: ${qj.status.error.code}: ${qj.status.error.message}`;
    const gone = phase === 'ARCHIVED' ? ' (its results were deleted)' : '';
    throw new TerminalError('QueryJobNotAvailable', `${field}: QueryJob ${name} is ${phase}${gone}${why}`);
  }
  if (phase !== 'COMPLETED')
    return {
      reason: 'QueryJobNotFinished',
      message: `waiting for QueryJob ${name} to complete (${phase ?? 'not started'})`,
    };
  const catalogName = qj.spec.catalogRef.name;
  if (catalog === undefined)
    return {
      reason: 'CatalogNotFound',
      message: `waiting for Catalog ${catalogName} of QueryJob ${name} (its results claim) to exist`,
    };
  const data = (qj.status?.results ?? []).filter((r) => !r.name.endsWith(PROVENANCE));
  if (data.length === 0)
    throw new TerminalError('QueryJobNotAvailable', `${field}: QueryJob ${name} lists no result file`);
  const bad = data.find((r) => resultFormat(r.name) === undefined);
  if (bad !== undefined)
    throw new TerminalError(
      'UnsupportedResultFormat',
      `${field}: QueryJob ${name}'s result ${bad.name} is ${bad.format}; positions are read from ${READABLE} ` +
        'results: run the query with spec.output.format csv or fits',
    );
  const claimName = catalog.spec.results.claimName;
  // The cutout runner reads positions from a volume; results in a bucket are not read yet (ADR 0013).
  if (claimName === undefined)
    throw new TerminalError(
      'UnsupportedResultStorage',
      `${field}: QueryJob ${name}'s results are in an S3 bucket (Catalog ${catalogName} spec.results.s3); positions are ` +
        'read only from a Catalog whose results are on a claim',
    );
  const rows = qj.status?.rows;
  return {
    claimName,
    dir: `${qj.metadata.name ?? ''}-${qj.metadata.uid ?? ''}`,
    files: data.map((r) => r.name),
    ...(rows !== undefined && { rows }),
  };
}

/** Whether `queryResult` said to wait. */
export function isWait(r: QueryResult | QueryWait): r is QueryWait {
  return 'reason' in r;
}
