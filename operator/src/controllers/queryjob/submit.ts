// Submit-time checks of a QueryJob against its Catalog that need no database: the limits (executionDuration,
// maxRecords) and the query itself — ADQL translated, then PostgreSQL's own parser (the query runner's validator:
// one SELECT, no write anywhere, no denied function). The EXPLAIN quote is quote.ts.
import { adqlToSql } from '@skyport/query-runner/adql';
import { QueryValidationError, validateQuery } from '@skyport/query-runner/validate';
import type { Catalog, QueryJob, QueryJobError } from '../../api/v1alpha1/index.js';
import { parseDuration } from '../../api/units.js';
import type { RunPlan } from './build.js';

/** A refusal at submit: phase ERROR with this error (always fatal: the same spec fails again). */
export class SubmitError extends Error {
  override readonly name = 'SubmitError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  toStatus(): QueryJobError {
    return { type: 'fatal', code: this.code, message: this.message };
  }
}

/**
 * The executionDuration (s) and maxRecords in force, or a SubmitError naming the field and the limit. A quick job
 * (spec.mode quick) also needs the catalog's TAP service, its namespace, and to fit spec.tap.quick.
 */
export function resolveLimits(qj: QueryJob, catalog: Catalog): Omit<RunPlan, 'sql'> {
  const lim = catalog.spec.limits;
  const maxMs = parseDuration(lim.maxExecutionDuration);
  const asked = qj.spec.executionDuration;
  const quick = qj.spec.mode === 'quick' ? quickLimits(qj, catalog) : undefined;
  const defaultMs = parseDuration(lim.defaultExecutionDuration);
  const ms =
    asked !== undefined ? parseDuration(asked) : Math.min(defaultMs, quick?.maxExecutionMs ?? defaultMs);
  if (ms > maxMs) {
    throw new SubmitError(
      'ExecutionDurationOverLimit',
      `spec.executionDuration: ${asked ?? ''} is over catalog ${catalog.metadata.name ?? ''}'s ` +
        `maxExecutionDuration of ${lim.maxExecutionDuration}`,
    );
  }
  if (quick !== undefined && ms > quick.maxExecutionMs) {
    throw new SubmitError(
      'QuickJobTooBig',
      `spec.executionDuration: ${asked ?? ''} is over catalog ${catalog.metadata.name ?? ''}'s quick ` +
        `maxExecutionDuration of ${quick.maxExecutionDuration} (spec.tap.quick): run it with mode async`,
    );
  }
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const wanted = qj.spec.maxRecords ?? quick?.maxRecords ?? lim.maxRecords;
  if (quick !== undefined && wanted > quick.maxRecords) {
    throw new SubmitError(
      'QuickJobTooBig',
      `spec.maxRecords: ${wanted} is over catalog ${catalog.metadata.name ?? ''}'s quick maxRecords of ` +
        `${quick.maxRecords} (spec.tap.quick): run it with mode async`,
    );
  }
  const maxRecords = Math.min(wanted, lim.maxRecords);
  return { executionDurationSeconds: seconds, maxRecords };
}

/**
 * A quick job's limits: the catalog must run a TAP service (which runs quick jobs) in the job's namespace (the
 * results claim it writes is that namespace's), docs/adr/0009-catalog-tap-service.md.
 */
function quickLimits(qj: QueryJob, catalog: Catalog) {
  const name = catalog.metadata.name ?? '';
  const tap = catalog.spec.tap;
  if (tap === undefined || !tap.enabled) {
    throw new SubmitError(
      'QuickNeedsTap',
      `spec.mode: quick jobs run in the catalog's TAP service and catalog ${name} has none ` +
        `(spec.tap ${tap === undefined ? 'unset' : 'disabled'}): use mode async`,
    );
  }
  if (catalog.spec.results.claimName === undefined) {
    // The TAP process writes quick results to the claim it mounts; it does not publish to a bucket.
    throw new SubmitError(
      'QuickNeedsResultsClaim',
      `spec.mode: catalog ${name} keeps results in a bucket (spec.results.s3) and quick jobs write to a ` +
        'results claim: use mode async',
    );
  }
  const ns = qj.metadata.namespace ?? 'default';
  if (tap.namespace !== ns) {
    throw new SubmitError(
      'QuickOutsideTapNamespace',
      `spec.mode: quick jobs of catalog ${name} run in its TAP service's namespace ${tap.namespace}, ` +
        `not ${ns}: use mode async`,
    );
  }
  const q = tap.quick;
  return {
    maxRecords: q.maxRecords,
    maxExecutionDuration: q.maxExecutionDuration,
    maxExecutionMs: parseDuration(q.maxExecutionDuration),
  };
}

/** The SQL to run: ADQL translated, then validated; a refusal names the construct, line and column. */
export async function checkedSql(qj: QueryJob): Promise<string> {
  try {
    if (qj.spec.language === 'ADQL') return await adqlToSql(qj.spec.query);
    await validateQuery(qj.spec.query);
    return qj.spec.query;
  } catch (err) {
    if (err instanceof QueryValidationError) throw new SubmitError(err.code, `spec.query: ${err.message}`);
    throw err;
  }
}
