// QueryJob (namespaced): one catalog query run as a batch/v1 Job, with UWS's phases, so that a TAP /async job is a
// QueryJob. The operator validates and quotes it before any Job exists (controllers/queryjob).
import {
  arr,
  bool,
  dateTime,
  def,
  duration,
  enumOf,
  immutable,
  int,
  obj,
  quantity,
  req,
  str,
} from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import type { Infer, InferInput } from '../schema.js';
import { conditions, DNS1123_SUBDOMAIN_PATTERN, LABEL_VALUE_PATTERN, observedGeneration } from './common.js';
import type { KindNames } from './group.js';
import { notification, notify } from './notify.js';
import { API_VERSION } from './group.js';

/** QueryJob: one catalog query, run asynchronously by the query runner (namespaced). */
export const QUERYJOB = {
  kind: 'QueryJob',
  listKind: 'QueryJobList',
  plural: 'queryjobs',
  singular: 'queryjob',
  shortNames: ['qj'],
  scope: 'Namespaced',
} as const satisfies KindNames;

/** Longest QueryJob name: its Job is `<name>-run` and the Job controller's Pod labels must stay ≤ 63. */
export const QUERYJOB_NAME_MAX = 52;

/** What a user asks for (UWS PHASE): PENDING (validate and quote only), RUN, ABORT. */
export const QUERYJOB_ACTIONS = ['PENDING', 'RUN', 'ABORT'] as const;
/** UWS execution phases in status.phase. */
export const QUERYJOB_PHASES = [
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'COMPLETED',
  'ERROR',
  'ABORTED',
  'ARCHIVED',
] as const;
/** A status phase. */
export type QueryJobPhase = (typeof QUERYJOB_PHASES)[number];
/** How a QueryJob runs: a runner Job (async) or in its catalog's TAP service, no pod (quick). */
export const QUERYJOB_MODES = ['async', 'quick'] as const;
/** Result formats (the query runner's writers). */
export const QUERYJOB_FORMATS = [
  'csv',
  'tsv',
  'json',
  'fits',
  'votable',
  'votable-binary2',
  'parquet',
  'hdf5',
] as const;

const output = obj(
  {
    format: def(enumOf(QUERYJOB_FORMATS, 'Result file format.'), 'csv'),
    compression: def(
      enumOf(
        ['none', 'gzip'] as const,
        'gzip applies to csv, tsv, json, fits and votable (Parquet and HDF5 compress inside).',
      ),
      'none',
    ),
    splitMaxBytes: quantity(
      'Start a new result file once the current one reaches this many bytes (uncompressed); one file when unset.',
    ),
  },
  'The result files.',
  {
    rules: [
      {
        rule: "self.compression != 'gzip' || !(self.format in ['parquet', 'hdf5'])",
        message: 'gzip compression is not available for parquet and hdf5 (they compress inside)',
        fieldPath: '.compression',
        check: (s) => s.compression !== 'gzip' || !['parquet', 'hdf5'].includes(s.format),
      },
    ],
  },
);

/** Longest query text a QueryJob takes (characters). */
export const QUERYJOB_QUERY_MAX = 100_000;

/** Schema of QueryJob.spec. */
export const queryJobSpec = obj(
  {
    owner: req(
      immutable(
        str("The user the job belongs to (set by the TAP service or portal from the caller's identity).", {
          pattern: LABEL_VALUE_PATTERN,
          maxLength: 63,
        }),
        'owner is immutable',
      ),
    ),
    runId: str('Free text the client tags the job with (UWS runId).', { maxLength: 256 }),
    catalogRef: req(
      immutable(
        obj(
          { name: req(str('Name of the Catalog.', { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 })) },
          'The Catalog the query runs against.',
        ),
        'catalogRef is immutable',
      ),
    ),
    language: def(
      enumOf(['SQL', 'ADQL'] as const, 'SQL (PostgreSQL) or ADQL (a subset, translated to SQL at submit).'),
      'SQL',
    ),
    query: req(str('One SELECT statement.', { minLength: 1, maxLength: QUERYJOB_QUERY_MAX })),
    mode: def(
      immutable(
        enumOf(
          QUERYJOB_MODES,
          "async: a batch/v1 Job of the query runner. quick: run at once in the catalog's TAP service process with " +
            'no pod (LIMIT maxRecords + 1 pushed into the SQL; the job must be in the TAP namespace and within the ' +
            "catalog's spec.tap.quick limits). Results land as for async.",
        ),
        'mode is immutable',
      ),
      'async',
    ),
    phase: def(
      enumOf(
        QUERYJOB_ACTIONS,
        'UWS PHASE: PENDING validates and quotes only; RUN runs the query; ABORT stops it (final).',
      ),
      'PENDING',
    ),
    validateOnly: def(bool('Validate and quote, never run (RUN is then ignored).'), false),
    maxRecords: int("Most rows of the result (MAXREC); the catalog's maxRecords when unset or larger.", {
      minimum: 1,
      format: 'int64',
    }),
    output: def(output, {}),
    executionDuration: duration(
      "Longest run; the catalog's default when unset, refused above the catalog's maxExecutionDuration.",
    ),
    destruction: dateTime(
      'When the results are deleted and the record becomes ARCHIVED; creation + the catalog retention when unset.',
    ),
    notify,
  },
  'The query, its catalog, its output and its UWS phase.',
  {
    rules: [
      {
        rule: "oldSelf.phase != 'ABORT' || self.phase == 'ABORT'",
        message: 'an aborted job cannot be started again',
        fieldPath: '.phase',
        check: (s, old) => old === undefined || old.phase !== 'ABORT' || s.phase === 'ABORT',
      },
      {
        rule:
          "oldSelf.phase == 'PENDING' || (self.query == oldSelf.query && self.language == oldSelf.language && " +
          'self.output == oldSelf.output)',
        message: 'query, language and output can change only while phase is PENDING',
        fieldPath: '.query',
        check: (s, old) =>
          old === undefined ||
          old.phase === 'PENDING' ||
          (s.query === old.query &&
            s.language === old.language &&
            JSON.stringify(s.output) === JSON.stringify(old.output)),
      },
    ],
  },
);

const quote = obj(
  {
    estimatedRows: req(int("The planner's row estimate.", { minimum: 0, format: 'int64' })),
    estimatedBytes: req(int('Rows × the planned row width.', { minimum: 0, format: 'int64' })),
    cost: req(int("The planner's total cost, rounded up.", { minimum: 0, format: 'int64' })),
  },
  "PostgreSQL's EXPLAIN estimate (nothing executed).",
);

const result = obj(
  {
    name: req(str("File name in the job's result directory.", { maxLength: 253 })),
    format: req(str('Media type.', { maxLength: 128 })),
    rows: int('Rows in the file.', { minimum: 0, format: 'int64' }),
    bytes: req(int('Size in bytes.', { minimum: 0, format: 'int64' })),
    sha256: req(str('SHA-256 of the file, hex.', { pattern: '^[a-f0-9]{64}$' })),
  },
  'One result file.',
);

const error = obj(
  {
    type: req(enumOf(['transient', 'fatal'] as const, 'transient: a retry can succeed; fatal: it cannot.')),
    code: req(
      str('Stable code, e.g. QueryNotSelectOnly, QuoteOverLimit, ExecutionDurationExceeded.', {
        maxLength: 128,
      }),
    ),
    message: req(str('What went wrong, naming the construct or limit.', { maxLength: 4096 })),
  },
  'Why the job ended in ERROR (UWS errorSummary).',
);

const progress = obj(
  {
    rows: req(int('Rows written so far.', { minimum: 0, format: 'int64' })),
    bytes: req(
      int('Bytes written so far: uncompressed while running, the result files at the end.', {
        minimum: 0,
        format: 'int64',
      }),
    ),
    updatedAt: req(dateTime('When the runner reported these figures.')),
  },
  'Live progress, written by the runner itself every few seconds while it runs (the last report stays).',
);

/** Schema of QueryJob.status. */
export const queryJobStatus = obj(
  {
    observedGeneration: observedGeneration(),
    conditions: conditions('Validated is True once the query passed validation and the quote.'),
    phase: enumOf(QUERYJOB_PHASES, 'UWS execution phase.'),
    quote: quote,
    executionDuration: int('The executionDuration in force, in seconds.', { minimum: 0, format: 'int64' }),
    maxRecords: int('The maxRecords in force.', { minimum: 1, format: 'int64' }),
    sql: str('The SQL that runs (an ADQL query translated).', { maxLength: 200_000 }),
    startTime: dateTime('When the runner Job was created.'),
    endTime: dateTime('When the job reached COMPLETED, ERROR or ABORTED.'),
    destruction: dateTime('When results are deleted and the record becomes ARCHIVED.'),
    jobName: str('The batch/v1 Job running the query.', { maxLength: 63 }),
    attempts: int('Runner pods that ended (a transient failure is retried once).', { minimum: 0 }),
    rows: int('Rows in the result.', { minimum: 0, format: 'int64' }),
    overflow: bool('Whether the result was cut at maxRecords (TAP QUERY_STATUS OVERFLOW).'),
    results: arr(result, 'Result files, then the provenance manifest.', { maxItems: 1024 }),
    progress,
    error,
    notification,
  },
  'Observed state of the query job.',
);

/** QueryJob.spec (after apiserver defaulting). */
export type QueryJobSpec = Infer<typeof queryJobSpec>;
/** QueryJob.spec as a user writes it. */
export type QueryJobSpecInput = InferInput<typeof queryJobSpec>;
/** QueryJob.status. */
export type QueryJobStatus = Infer<typeof queryJobStatus>;
/** One result file. */
export type QueryJobResult = Infer<typeof result>;
/** status.error. */
export type QueryJobError = Infer<typeof error>;

/** A QueryJob as read from the apiserver. */
export interface QueryJob extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof QUERYJOB.kind;
  metadata: ObjectMeta;
  spec: QueryJobSpec;
  status?: QueryJobStatus;
}
