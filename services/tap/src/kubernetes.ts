// The Kubernetes JobStore: every async TAP job IS a QueryJob resource in one namespace (README, "The Kubernetes
// store"). The operator's QueryJob controller validates, quotes, runs (a runner Job), aborts and destroys it and
// writes its status; this store only creates QueryJobs, patches spec.phase / spec.destruction / the parameters,
// deletes them, and maps their status back to UWS jobs. Results are files on the catalog's results claim, which
// the TAP pod mounts read-only: `<dir>/<name>-<uid>/<file>`.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Format } from '@skyport/query-runner/dist/src/formats/index.js';
import {
  ACTIVE_PHASES,
  JobStateError,
  PHASES,
  type Job,
  type JobFilter,
  type JobParameters,
  type JobResult,
  type JobStore,
  type NewJob,
  type Phase,
} from './jobs.js';
import { KubeError, type KubeClient, type WatchEvent } from './kube.js';
import { ParamError } from './params.js';
import type { Clock } from '@skyport/service-kit/signing';

/** The QueryJob as this store reads it (the fields it uses; the CRD is the operator's api/v1alpha1/queryjob.ts). */
export interface QueryJobObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    owner: string;
    runId?: string;
    catalogRef: { name: string };
    language?: 'SQL' | 'ADQL';
    query: string;
    phase?: 'PENDING' | 'RUN' | 'ABORT';
    maxRecords?: number;
    output?: { format?: string; compression?: string };
    executionDuration?: string;
    destruction?: string;
  };
  status?: {
    phase?: string;
    quote?: { estimatedRows: number; estimatedBytes: number; cost: number };
    executionDuration?: number;
    maxRecords?: number;
    startTime?: string;
    endTime?: string;
    destruction?: string;
    jobName?: string;
    rows?: number;
    overflow?: boolean;
    results?: { name: string; format: string; rows?: number; bytes: number; sha256: string }[];
    error?: { type: 'transient' | 'fatal'; code: string; message: string };
  };
}

const GROUP_VERSION = 'skyport.io/v1alpha1';
/** The owner, as a label so a user's jobs are one indexed list call. */
export const OWNER_LABEL = 'skyport.io/tap-owner';
/** Set on a job deleted while it may have files: hidden from now on, removed once the operator archived it. */
export const DELETED_LABEL = 'skyport.io/tap-deleted';
/** Creation time with milliseconds (metadata.creationTimestamp has seconds), for ordering and AFTER. */
export const CREATED_ANNOTATION = 'skyport.io/tap-created';
/** Rows per second the quote assumes (as the in-process store). */
const QUOTE_ROWS_PER_SECOND = 20_000;
const PROVENANCE_SUFFIX = '.provenance.json';

export interface KubernetesStoreOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** The Catalog QueryJobs name. */
  readonly catalog: string;
  /** Where the catalog's results claim is mounted (read-only). */
  readonly dir: string;
  readonly now?: Clock;
}

const isPhase = (s: string | undefined): s is Phase => (PHASES as readonly string[]).includes(s ?? '');

/** spec.executionDuration ("600s", "10m", "1h30m") in seconds. */
function seconds(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g))
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1);
  return Math.round(total);
}

/** The UWS phase of a QueryJob: its status, except that a RUN the operator has not acted on yet is QUEUED. */
function phaseOf(q: QueryJobObject): Phase {
  const s = q.status?.phase;
  if (q.spec.phase === 'RUN' && (s === undefined || s === 'PENDING')) return 'QUEUED';
  return isPhase(s) ? s : 'PENDING';
}

function resultsOf(q: QueryJobObject): JobResult[] {
  const files = q.status?.results ?? [];
  const data = files.filter((f) => !f.name.endsWith(PROVENANCE_SUFFIX));
  const out: JobResult[] = data.map((f, i) => ({
    id: i === 0 ? 'result' : `result-${i + 1}`,
    file: f.name,
    mediaType: f.format,
    size: f.bytes,
    ...(f.rows !== undefined && { rows: f.rows }),
    sha256: f.sha256,
  }));
  for (const f of files.filter((x) => x.name.endsWith(PROVENANCE_SUFFIX)))
    out.push({
      id: 'provenance',
      file: f.name,
      mediaType: 'application/json',
      size: f.bytes,
      sha256: f.sha256,
    });
  return out;
}

/** A QueryJob as a UWS job. */
export function toJob(q: QueryJobObject): Job {
  const st = q.status ?? {};
  const created = q.metadata.annotations?.[CREATED_ANNOTATION] ?? q.metadata.creationTimestamp;
  const creationTime = new Date(created ?? 0);
  const maxrec = q.spec.maxRecords ?? st.maxRecords ?? 0;
  const plan = st.quote;
  // At most the rows asked for and the rows the catalog allows (status.maxRecords, the operator's).
  const rows =
    plan === undefined
      ? undefined
      : Math.min(plan.estimatedRows, maxrec || Infinity, st.maxRecords ?? Infinity);
  const destruction = st.destruction ?? q.spec.destruction;
  return {
    id: q.metadata.name,
    owner: q.spec.owner,
    ...(q.spec.runId !== undefined && { runId: q.spec.runId }),
    phase: phaseOf(q),
    creationTime,
    ...(st.startTime !== undefined && { startTime: new Date(st.startTime) }),
    ...(st.endTime !== undefined && { endTime: new Date(st.endTime) }),
    executionDuration: seconds(q.spec.executionDuration) ?? st.executionDuration ?? 0,
    // A job the operator has not seen yet has no destruction of its own: creation stands in (never shown long).
    destruction: new Date(destruction ?? creationTime),
    ...(plan !== undefined && { plan }),
    ...(rows !== undefined && {
      quote: new Date(creationTime.getTime() + Math.ceil((rows / QUOTE_ROWS_PER_SECOND) * 1000)),
    }),
    parameters: {
      lang: q.spec.language === 'ADQL' ? 'ADQL' : 'PG-SQL',
      query: q.spec.query,
      format: (q.spec.output?.format ?? 'csv') as Format,
      maxrec,
    },
    results: resultsOf(q),
    ...(st.error !== undefined && { error: st.error }),
    ...(st.overflow !== undefined && { overflow: st.overflow }),
    ...dirsOf(q),
  };
}

/** Where a QueryJob's results are: its directory on the claim and its folder in the bucket (both need the UID). */
function dirsOf(q: QueryJobObject): Pick<Job, 'resultDir' | 'objectDir'> {
  const { name, namespace, uid } = q.metadata;
  if (uid === undefined) return {};
  return {
    resultDir: `${name}-${uid}`,
    ...(namespace !== undefined && { objectDir: `${namespace}/${name}/${uid}` }),
  };
}

/** The job's fields a QueryJob spec holds, from TAP's parameters. */
function specParameters(
  p: JobParameters,
): Pick<QueryJobObject['spec'], 'language' | 'query' | 'maxRecords' | 'output'> {
  // The CRD's maxRecords is at least 1: TAP's MAXREC=0 (metadata only) has no QueryJob form.
  if (p.maxrec < 1)
    throw new ParamError('MAXREC', 'an async job needs at least 1 row; use /sync for MAXREC=0');
  return {
    language: p.lang === 'ADQL' ? 'ADQL' : 'SQL',
    query: p.query,
    maxRecords: p.maxrec,
    output: { format: p.format, compression: 'none' },
  };
}

export class KubernetesJobStore implements JobStore {
  private readonly now: Clock;
  private readonly closing = new AbortController();

  constructor(private readonly opts: KubernetesStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  private path(name?: string): string {
    const base = `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(this.opts.namespace)}/queryjobs`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  /** The QueryJob, or undefined when it does not exist or was deleted through this store. */
  private async read(id: string): Promise<QueryJobObject | undefined> {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(id) || id.length > 63) return undefined;
    try {
      const q = await this.opts.client.request<QueryJobObject>('GET', this.path(id));
      return q.metadata.labels?.[DELETED_LABEL] === undefined ? q : undefined;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  private async must(id: string): Promise<QueryJobObject> {
    const q = await this.read(id);
    if (q === undefined) throw new JobStateError(`job ${id} does not exist`);
    return q;
  }

  /** A merge patch; a conflict (the job changed meanwhile, when `resourceVersion` is given) is a 409. */
  private async patch(id: string, body: unknown): Promise<QueryJobObject> {
    try {
      return await this.opts.client.request<QueryJobObject>(
        'PATCH',
        this.path(id),
        body,
        'application/merge-patch+json',
      );
    } catch (err) {
      if (err instanceof KubeError && err.status === 409)
        throw new JobStateError(`job ${id} changed meanwhile; try again`);
      if (err instanceof KubeError && err.status === 422)
        throw new JobStateError(`job ${id}: ${err.message.replace(/^[^:]*: /, '')}`);
      throw err;
    }
  }

  async create(n: NewJob): Promise<Job> {
    const name = `tap-${randomBytes(8).toString('hex')}`;
    const obj: QueryJobObject = {
      apiVersion: GROUP_VERSION,
      kind: 'QueryJob',
      metadata: {
        name,
        labels: { [OWNER_LABEL]: n.owner, 'app.kubernetes.io/created-by': 'skyport-tap' },
        annotations: { [CREATED_ANNOTATION]: new Date(this.now()).toISOString() },
      },
      spec: {
        owner: n.owner,
        ...(n.runId !== undefined && { runId: n.runId }),
        catalogRef: { name: this.opts.catalog },
        ...specParameters(n.parameters),
        phase: 'PENDING',
        executionDuration: `${n.executionDuration}s`,
        destruction: n.destruction.toISOString(),
      },
    };
    return toJob(await this.opts.client.request<QueryJobObject>('POST', this.path(), obj));
  }

  async get(id: string, owner?: string): Promise<Job | undefined> {
    const q = await this.read(id);
    if (q === undefined || (owner !== undefined && q.spec.owner !== owner)) return undefined;
    return toJob(q);
  }

  async list(owner: string, f: JobFilter): Promise<readonly Job[]> {
    const selector = `${OWNER_LABEL}=${owner},!${DELETED_LABEL}`;
    const l = await this.opts.client.request<{ items: QueryJobObject[] }>(
      'GET',
      `${this.path()}?labelSelector=${encodeURIComponent(selector)}`,
    );
    let jobs = l.items
      .filter((q) => q.spec.owner === owner)
      .map(toJob)
      .filter((j) => (f.phases === undefined ? j.phase !== 'ARCHIVED' : f.phases.includes(j.phase)))
      .filter((j) => f.after === undefined || j.creationTime.getTime() > f.after.getTime())
      .sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime() || a.id.localeCompare(b.id));
    if (f.last !== undefined) jobs = jobs.slice(-f.last);
    return jobs;
  }

  async run(id: string): Promise<Job> {
    const q = await this.must(id);
    if (q.spec.phase !== 'PENDING' || (q.status?.phase !== undefined && q.status.phase !== 'PENDING'))
      return toJob(q);
    // No resourceVersion guard: the operator writes the status (quote) meanwhile, and the only spec change that
    // may race, ABORT, is final — the CRD's rule refuses RUN after it (422 → JobStateError).
    return toJob(await this.patch(id, { spec: { phase: 'RUN' } }));
  }

  async abort(id: string): Promise<Job> {
    const q = await this.must(id);
    if (q.spec.phase === 'ABORT' || !ACTIVE_PHASES.has(phaseOf(q))) return toJob(q);
    return toJob(await this.patch(id, { spec: { phase: 'ABORT' } }));
  }

  /**
   * A job that never ran is deleted at once. One that ran may have files on the results claim, which this pod
   * mounts read-only: it is hidden (DELETED_LABEL) and its destruction set to now, so the operator stops it and
   * deletes its files (ARCHIVED); {@link sweep} then deletes the record.
   */
  async delete(id: string): Promise<void> {
    const q = await this.must(id);
    const ran = q.status?.startTime !== undefined || q.status?.jobName !== undefined;
    if (!ran || q.status?.phase === 'ARCHIVED') return this.remove(id);
    await this.patch(id, {
      metadata: { labels: { [DELETED_LABEL]: 'true' } },
      spec: { destruction: new Date(this.now()).toISOString() },
    });
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.opts.client.request('DELETE', this.path(id), { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) throw err;
    }
  }

  /**
   * Spec changes allowed only while the job is PENDING. The resourceVersion guards a concurrent RUN; a conflict
   * with anything else (the operator's status writes) is retried on a fresh read.
   */
  private async whilePending(id: string, what: string, spec: Partial<QueryJobObject['spec']>): Promise<Job> {
    for (let attempt = 1; ; attempt++) {
      const q = await this.must(id);
      const phase = phaseOf(q);
      if (phase !== 'PENDING' || q.spec.phase !== 'PENDING')
        throw new JobStateError(`${what} of job ${id} can change only while PENDING (it is ${phase})`);
      try {
        return toJob(
          await this.patch(id, { metadata: { resourceVersion: q.metadata.resourceVersion }, spec }),
        );
      } catch (err) {
        if (!(err instanceof JobStateError && /changed meanwhile/.test(err.message)) || attempt >= 5)
          throw err;
      }
    }
  }

  setExecutionDuration(id: string, s: number): Promise<Job> {
    return this.whilePending(id, 'executionDuration', { executionDuration: `${s}s` });
  }

  setParameters(id: string, p: JobParameters): Promise<Job> {
    return this.whilePending(id, 'the parameters', specParameters(p));
  }

  async setDestruction(id: string, at: Date): Promise<Job> {
    await this.must(id);
    return toJob(await this.patch(id, { spec: { destruction: at.toISOString() } }));
  }

  async wait(
    id: string,
    phase: Phase | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Job | undefined> {
    const q = await this.read(id);
    if (q === undefined) return undefined;
    const first = toJob(q);
    const from = phase ?? first.phase;
    if (!ACTIVE_PHASES.has(first.phase) || first.phase !== from || timeoutMs <= 0) return first;
    const stop = AbortSignal.any([
      this.closing.signal,
      AbortSignal.timeout(timeoutMs),
      ...(signal === undefined ? [] : [signal]),
    ]);
    let last: Job | undefined = first;
    const params = new URLSearchParams({
      fieldSelector: `metadata.name=${id}`,
      resourceVersion: q.metadata.resourceVersion ?? '0',
      timeoutSeconds: String(Math.ceil(timeoutMs / 1000)),
      allowWatchBookmarks: 'false',
    });
    await this.opts.client.watch(
      `${this.path()}?${params.toString()}`,
      (e: WatchEvent) => {
        if (e.type === 'DELETED') {
          last = undefined;
          return true;
        }
        if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return e.type === 'ERROR';
        const o = e.object as QueryJobObject;
        if (o.metadata.labels?.[DELETED_LABEL] !== undefined) {
          last = undefined;
          return true;
        }
        last = toJob(o);
        return last.phase !== from;
      },
      stop,
    );
    // The watch ended for its own reason (timeout, an expired resourceVersion): the job as it is now.
    return last === undefined ? undefined : last.phase !== from ? last : await this.get(id);
  }

  resultPath(job: Job, result: { readonly file: string }): string {
    return join(this.opts.dir, job.resultDir ?? job.id, result.file);
  }

  /** Deletes the records of jobs deleted through {@link delete} once the operator has archived them. */
  async sweep(): Promise<number> {
    const l = await this.opts.client.request<{ items: QueryJobObject[] }>(
      'GET',
      `${this.path()}?labelSelector=${encodeURIComponent(DELETED_LABEL)}`,
    );
    let n = 0;
    for (const q of l.items)
      if (q.status?.phase === 'ARCHIVED') {
        await this.remove(q.metadata.name);
        n++;
      }
    return n;
  }

  close(): Promise<void> {
    this.closing.abort();
    this.opts.client.close();
    return Promise.resolve();
  }
}
