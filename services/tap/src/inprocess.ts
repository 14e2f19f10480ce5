// The in-process JobStore: each async job runs the query-runner's runJob (validation, READ ONLY cursor,
// statement_timeout and its own deadline, streaming writer, provenance manifest) inside the TAP process,
// with results under `<dir>/<job id>/`. Jobs wait in QUEUED while their owner already has
// `maxConcurrentPerUser` EXECUTING. Job records live in memory: a restart of the process forgets them
// (the Kubernetes store, where a job is a QueryJob resource, is the durable one).

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { classify } from '@skyport/query-runner/dist/src/errors.js';
import { quoteQuery } from '@skyport/query-runner/dist/src/quote.js';
import { manifestName, runJob } from '@skyport/query-runner/dist/src/run.js';
import type pg from 'pg';
import type { DbConfig } from './config.js';
import {
  ACTIVE_PHASES,
  JobStateError,
  type Job,
  type JobFilter,
  type JobParameters,
  type JobResult,
  type JobStore,
  type NewJob,
  type Phase,
} from './jobs.js';
import { toSql } from './params.js';
import type { Clock } from '@skyport/service-kit/signing';

export interface InProcessOptions {
  /** Results directory (created when missing): one subdirectory per job. */
  readonly dir: string;
  readonly db: DbConfig;
  readonly catalog: { readonly name: string; readonly release?: string };
  /** For EXPLAIN at creation (the quote). */
  readonly pool: pg.Pool;
  readonly maxConcurrentPerUser: number;
  /** Rows per second the quote assumes (the runner's measured rate on this kind of table). */
  readonly quoteRowsPerSecond?: number;
  readonly now?: Clock;
}

interface Entry {
  job: Job;
  controller?: AbortController;
  running?: Promise<void>;
}

const STEM = 'result';

export class InProcessJobStore implements JobStore {
  private readonly jobs = new Map<string, Entry>();
  private readonly events = new EventEmitter();
  private readonly now: Clock;
  private closed = false;

  constructor(private readonly opts: InProcessOptions) {
    this.now = opts.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  private set(id: string, patch: Partial<Job>): Job {
    const e = this.jobs.get(id);
    if (e === undefined) throw new JobStateError(`job ${id} is gone`);
    e.job = { ...e.job, ...patch };
    this.events.emit(id);
    return e.job;
  }

  private entry(id: string): Entry {
    const e = this.jobs.get(id);
    if (e === undefined) throw new JobStateError(`job ${id} does not exist`);
    return e;
  }

  async create(n: NewJob): Promise<Job> {
    const id = randomBytes(12).toString('hex');
    const creationTime = new Date(this.now());
    const plan = await this.plan(n.parameters);
    const rate = this.opts.quoteRowsPerSecond ?? 20_000;
    const rows = plan === undefined ? undefined : Math.min(plan.estimatedRows, n.parameters.maxrec);
    const job: Job = {
      id,
      owner: n.owner,
      ...(n.runId !== undefined && { runId: n.runId }),
      phase: 'PENDING',
      creationTime,
      executionDuration: n.executionDuration,
      destruction: n.destruction,
      parameters: n.parameters,
      results: [],
      ...(plan !== undefined && { plan }),
      ...(rows !== undefined && {
        quote: new Date(creationTime.getTime() + Math.ceil((rows / rate) * 1000)),
      }),
    };
    this.jobs.set(id, { job });
    return job;
  }

  /** EXPLAIN of the translated query; undefined when it does not translate or plan (RUN reports why). */
  private async plan(p: JobParameters): Promise<Job['plan']> {
    let client: pg.PoolClient | undefined;
    try {
      const sql = await toSql(p.lang, p.query);
      client = await this.opts.pool.connect();
      return await quoteQuery(client, sql);
    } catch {
      return undefined;
    } finally {
      client?.release();
    }
  }

  get(id: string, owner?: string): Promise<Job | undefined> {
    const job = this.jobs.get(id)?.job;
    return Promise.resolve(owner === undefined || job?.owner === owner ? job : undefined);
  }

  list(owner: string, f: JobFilter): Promise<readonly Job[]> {
    let jobs = [...this.jobs.values()]
      .map((e) => e.job)
      .filter((j) => j.owner === owner)
      .filter((j) => (f.phases === undefined ? j.phase !== 'ARCHIVED' : f.phases.includes(j.phase)))
      .filter((j) => f.after === undefined || j.creationTime > f.after)
      .sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime() || a.id.localeCompare(b.id));
    if (f.last !== undefined) jobs = jobs.slice(Math.max(0, jobs.length - f.last));
    return Promise.resolve(jobs);
  }

  run(id: string): Promise<Job> {
    const e = this.entry(id);
    if (e.job.phase === 'PENDING') {
      this.set(id, { phase: 'QUEUED' });
      this.schedule();
    }
    return Promise.resolve(this.entry(id).job);
  }

  /** Starts QUEUED jobs, oldest first, while their owners have free slots. */
  private schedule(): void {
    if (this.closed) return;
    const executing = new Map<string, number>();
    for (const { job } of this.jobs.values())
      if (job.phase === 'EXECUTING') executing.set(job.owner, (executing.get(job.owner) ?? 0) + 1);
    const queued = [...this.jobs.values()]
      .filter((e) => e.job.phase === 'QUEUED')
      .sort((a, b) => a.job.creationTime.getTime() - b.job.creationTime.getTime());
    for (const e of queued) {
      const n = executing.get(e.job.owner) ?? 0;
      if (n >= this.opts.maxConcurrentPerUser) continue;
      executing.set(e.job.owner, n + 1);
      this.start(e);
    }
  }

  private start(e: Entry): void {
    const id = e.job.id;
    const controller = new AbortController();
    e.controller = controller;
    this.set(id, { phase: 'EXECUTING', startTime: new Date(this.now()) });
    e.running = this.execute(e.job, controller.signal)
      .then((patch) => {
        if (this.jobs.has(id) && !controller.signal.aborted)
          this.set(id, { ...patch, endTime: new Date(this.now()) });
      })
      .finally(() => {
        delete e.controller;
        this.schedule();
      });
  }

  /** Runs the job to its final phase's fields; never rejects. */
  private async execute(job: Job, signal: AbortSignal): Promise<Partial<Job>> {
    const dir = join(this.opts.dir, job.id);
    try {
      const sql = await toSql(job.parameters.lang, job.parameters.query);
      await mkdir(dir, { recursive: true });
      const m = await runJob(
        {
          query: sql,
          catalog: this.opts.catalog,
          connection: this.opts.db,
          output: { dir, stem: STEM, format: job.parameters.format, compression: 'none' },
          maxRecords: job.parameters.maxrec,
          executionDurationSeconds: job.executionDuration,
        },
        { emit: () => undefined, signal, now: () => new Date(this.now()) },
      );
      const results: JobResult[] = m.files.map((f, i) => ({
        id: i === 0 ? 'result' : `result-${i + 1}`,
        file: f.name,
        mediaType: f.mediaType,
        size: f.bytes,
        rows: f.rows,
        sha256: f.sha256,
      }));
      const prov = manifestName(STEM);
      results.push({
        id: 'provenance',
        file: prov,
        mediaType: 'application/json',
        size: (await stat(join(dir, prov))).size,
      });
      return { phase: 'COMPLETED', results, overflow: m.overflow };
    } catch (err) {
      const c = classify(err);
      return { phase: 'ERROR', error: { type: c.type, code: c.code, message: c.message } };
    }
  }

  async abort(id: string): Promise<Job> {
    const e = this.entry(id);
    if (!ACTIVE_PHASES.has(e.job.phase)) return e.job;
    e.controller?.abort();
    // runJob cancels the backend and closes its connection before it settles.
    await e.running;
    const job = this.set(id, { phase: 'ABORTED', endTime: new Date(this.now()) });
    // Its slot is free only now (the run settled while the job was still EXECUTING).
    this.schedule();
    return job;
  }

  async delete(id: string): Promise<void> {
    const e = this.jobs.get(id);
    if (e === undefined) return;
    e.controller?.abort();
    await e.running;
    await rm(join(this.opts.dir, id), { recursive: true, force: true });
    this.jobs.delete(id);
    this.events.emit(id);
    this.schedule();
  }

  private pendingOnly(id: string, what: string): Entry {
    const e = this.entry(id);
    if (e.job.phase !== 'PENDING')
      throw new JobStateError(`${what} can change only while the job is PENDING; it is ${e.job.phase}`);
    return e;
  }

  setExecutionDuration(id: string, seconds: number): Promise<Job> {
    this.pendingOnly(id, 'executionDuration');
    return Promise.resolve(this.set(id, { executionDuration: seconds }));
  }

  setDestruction(id: string, at: Date): Promise<Job> {
    const e = this.entry(id);
    if (e.job.phase === 'ARCHIVED') throw new JobStateError('the job is ARCHIVED: its results are gone');
    return Promise.resolve(this.set(id, { destruction: at }));
  }

  async setParameters(id: string, parameters: JobParameters): Promise<Job> {
    this.pendingOnly(id, 'parameters');
    const plan = await this.plan(parameters);
    const { plan: _p, quote: _q, ...rest } = this.entry(id).job;
    this.entry(id).job = rest;
    return this.set(id, { parameters, ...(plan !== undefined && { plan }) });
  }

  wait(
    id: string,
    phase: Phase | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Job | undefined> {
    const job = this.jobs.get(id)?.job;
    if (job === undefined) return Promise.resolve(undefined);
    const from = phase ?? job.phase;
    if (job.phase !== from || !ACTIVE_PHASES.has(job.phase) || timeoutMs <= 0) return Promise.resolve(job);
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.events.off(id, check);
        signal?.removeEventListener('abort', finish);
        resolve(this.jobs.get(id)?.job);
      };
      const check = (): void => {
        if (this.jobs.get(id)?.job.phase !== from) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.events.on(id, check);
      signal?.addEventListener('abort', finish);
    });
  }

  resultPath(job: Job, result: JobResult): string {
    return join(this.opts.dir, job.resultDir ?? job.id, result.file);
  }

  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const e of [...this.jobs.values()]) {
      if (e.job.phase === 'ARCHIVED' || e.job.destruction.getTime() > now) continue;
      if (ACTIVE_PHASES.has(e.job.phase)) await this.abort(e.job.id);
      await rm(join(this.opts.dir, e.job.id), { recursive: true, force: true });
      this.set(e.job.id, { phase: 'ARCHIVED', results: [] });
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.jobs.values()) e.controller?.abort();
    await Promise.all([...this.jobs.values()].map((e) => e.running ?? Promise.resolve()));
  }
}
