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

/** The executionDuration (s) and maxRecords in force, or a SubmitError naming the field and the limit. */
export function resolveLimits(qj: QueryJob, catalog: Catalog): Omit<RunPlan, 'sql'> {
  const lim = catalog.spec.limits;
  const maxMs = parseDuration(lim.maxExecutionDuration);
  const asked = qj.spec.executionDuration;
  const ms = asked === undefined ? parseDuration(lim.defaultExecutionDuration) : parseDuration(asked);
  if (ms > maxMs) {
    throw new SubmitError(
      'ExecutionDurationOverLimit',
      `spec.executionDuration: ${asked ?? ''} is over catalog ${catalog.metadata.name ?? ''}'s ` +
        `maxExecutionDuration of ${lim.maxExecutionDuration}`,
    );
  }
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const maxRecords = Math.min(qj.spec.maxRecords ?? lim.maxRecords, lim.maxRecords);
  return { executionDurationSeconds: seconds, maxRecords };
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
