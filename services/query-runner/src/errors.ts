// How a failed run is reported: {type, code, message}, type `transient` when the same run may succeed if
// retried (the connection dropped, the server restarted, a serialization failure), `fatal` when it will
// fail again (the query is refused, lacks a permission, or ran out of time). The exit code follows.

import { FormatError } from './formats/types.js';
import { QuoteError } from './quote.js';
import { QueryError } from './reader.js';
import { S3Error } from '@skyport/s3';
import { SpecError } from './spec.js';
import { QueryValidationError } from './validate.js';

export interface RunError {
  readonly type: 'transient' | 'fatal';
  readonly code: string;
  readonly message: string;
}

/** The run stopped itself: its deadline passed or it was told to stop (SIGTERM). */
export class StopError extends Error {
  override readonly name = 'StopError';
  constructor(
    readonly code: 'ExecutionDurationExceeded' | 'Aborted',
    message: string,
  ) {
    super(message);
  }
}

/** Exit codes: 0 done, 1 fatal, 2 invalid spec (fatal), 75 transient (sysexits EX_TEMPFAIL: retry). */
export const EXIT = { ok: 0, fatal: 1, spec: 2, transient: 75 } as const;

/** SQLSTATEs a retry can cure: connection exceptions (08), serialization/deadlock, shutdown, capacity. */
function transientState(code: string): boolean {
  return (
    code.startsWith('08') ||
    ['40001', '40P01', '57P01', '57P02', '57P03', '53300', '53400'].includes(code) ||
    code.startsWith('53')
  );
}

/** Names PostgreSQL's most common refusals; the SQLSTATE stays in the message. */
const STATE_CODES: Readonly<Record<string, string>> = {
  '42501': 'PermissionDenied',
  '42P01': 'UndefinedTable',
  '42703': 'UndefinedColumn',
  '42601': 'QuerySyntax',
  '25006': 'QueryNotReadOnly',
  '57014': 'QueryCanceled',
};

/** Node socket errors that mean the server went away. */
const SOCKET = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection terminated|timeout expired/i;

export function classify(err: unknown): RunError {
  if (err instanceof StopError) return { type: 'fatal', code: err.code, message: err.message };
  if (err instanceof SpecError) return { type: 'fatal', code: 'InvalidSpec', message: err.message };
  if (err instanceof QueryValidationError || err instanceof QuoteError || err instanceof FormatError)
    return { type: 'fatal', code: err.code, message: err.message };
  if (err instanceof S3Error) {
    if (err.transient) return { type: 'transient', code: 'StorageUnavailable', message: err.message };
    return {
      type: 'fatal',
      code: err.status === 403 ? 'StorageAccessDenied' : 'StorageFailed',
      message: err.message,
    };
  }
  if (err instanceof QueryError) {
    const message = `${err.message} (SQLSTATE ${err.code})`;
    if (transientState(err.code)) return { type: 'transient', code: 'DatabaseUnavailable', message };
    return { type: 'fatal', code: STATE_CODES[err.code] ?? 'QueryFailed', message };
  }
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code))
    return classify(new QueryError(e.code, message));
  if ((typeof e.code === 'string' && SOCKET.test(e.code)) || SOCKET.test(message))
    return { type: 'transient', code: 'ConnectionLost', message };
  return { type: 'fatal', code: 'InternalError', message };
}

export function exitCode(e: RunError): number {
  if (e.code === 'InvalidSpec') return EXIT.spec;
  return e.type === 'transient' ? EXIT.transient : EXIT.fatal;
}
