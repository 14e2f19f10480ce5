// Async TAP jobs behind one interface, so the UWS routes do not care where a job runs. Two
// implementations are meant: InProcessJobStore (inprocess.ts: the query-runner's reader and writers in
// this process, results on a local directory) and, later, a Kubernetes store in which every job IS a
// QueryJob resource (kubernetes.ts). A user sees only their own jobs: the routes pass the request's user to
// get() and list(), and another user's job is as unknown as a missing one (404).

import type { Format } from '@skyport/query-runner/dist/src/formats/index.js';
import type { Lang } from './params.js';

/** UWS 1.1 execution phases. */
export const PHASES = [
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'COMPLETED',
  'ERROR',
  'ABORTED',
  'UNKNOWN',
  'HELD',
  'SUSPENDED',
  'ARCHIVED',
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases a job leaves by itself; WAIT blocks only in these. */
export const ACTIVE_PHASES: ReadonlySet<Phase> = new Set<Phase>(['PENDING', 'QUEUED', 'EXECUTING']);

/** What the job runs: the TAP parameters as given and as read. */
export interface JobParameters {
  readonly lang: Lang;
  readonly query: string;
  readonly format: Format;
  readonly maxrec: number;
}

export interface JobResult {
  /** UWS result id: `result` (what pyvo fetches) and `provenance`. */
  readonly id: string;
  /** File name inside the job's result area. */
  readonly file: string;
  readonly mediaType: string;
  readonly size: number;
  readonly rows?: number;
  readonly sha256?: string;
}

export interface JobError {
  readonly type: 'transient' | 'fatal';
  readonly code: string;
  readonly message: string;
}

/** The planner's estimate (EXPLAIN), taken when the job is created. */
export interface JobPlan {
  readonly estimatedRows: number;
  readonly cost: number;
  readonly estimatedBytes: number;
}

export interface Job {
  readonly id: string;
  readonly owner: string;
  readonly runId?: string;
  readonly phase: Phase;
  readonly creationTime: Date;
  readonly startTime?: Date;
  readonly endTime?: Date;
  /** Seconds; the service never offers 0 (unlimited): it is capped by the configured hard limit. */
  readonly executionDuration: number;
  readonly destruction: Date;
  /** Estimated completion time (UWS quote); undefined when unknown. */
  readonly quote?: Date;
  readonly plan?: JobPlan;
  readonly parameters: JobParameters;
  readonly results: readonly JobResult[];
  readonly error?: JobError;
  readonly overflow?: boolean;
  /** The job's directory under the results root; the id when unset (the Kubernetes store: `<name>-<uid>`). */
  readonly resultDir?: string;
  /** The job's folder of objects in the Catalog's bucket (the Kubernetes store: `<namespace>/<name>/<uid>`). */
  readonly objectDir?: string;
}

export interface JobFilter {
  readonly phases?: readonly Phase[];
  readonly after?: Date;
  /** The `last` most recently created jobs (after the other filters). */
  readonly last?: number;
}

export interface NewJob {
  readonly owner: string;
  readonly runId?: string;
  readonly parameters: JobParameters;
  readonly executionDuration: number;
  readonly destruction: Date;
}

/** A request the job's phase does not allow (HTTP 409 / UWS: the job is unchanged). */
export class JobStateError extends Error {
  override readonly name = 'JobStateError';
}

/** Where async jobs live and run. Every method resolves once the change is recorded. */
export interface JobStore {
  create(job: NewJob): Promise<Job>;
  /** The job; undefined when unknown or, with `owner`, when another user's (so the routes answer 404). */
  get(id: string, owner?: string): Promise<Job | undefined>;
  /** The owner's jobs (never anyone else's), oldest first, ARCHIVED ones only when asked by phase. */
  list(owner: string, filter: JobFilter): Promise<readonly Job[]>;
  /** PHASE=RUN: PENDING → QUEUED (→ EXECUTING when a slot is free); other phases are left as they are. */
  run(id: string): Promise<Job>;
  /** PHASE=ABORT: PENDING/QUEUED/EXECUTING → ABORTED (the query cancelled); final phases unchanged. */
  abort(id: string): Promise<Job>;
  /** Removes the job and its results. */
  delete(id: string): Promise<void>;
  /** Only while PENDING (UWS: parameters and executionDuration change before the job runs). */
  setExecutionDuration(id: string, seconds: number): Promise<Job>;
  setDestruction(id: string, at: Date): Promise<Job>;
  setParameters(id: string, parameters: JobParameters): Promise<Job>;
  /**
   * Resolves when the job's phase differs from `phase` (or its current phase when undefined), the job is
   * gone, `timeoutMs` passes or `signal` aborts — at once unless the job is in an active phase.
   */
  wait(
    id: string,
    phase: Phase | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Job | undefined>;
  /** The absolute path of a result file, to stream (the in-process store keeps results on local disk). */
  resultPath(job: Job, result: JobResult): string;
  /** Applies destruction times that have passed: results deleted, the record kept as ARCHIVED. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}
