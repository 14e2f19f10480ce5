// Quick QueryJobs (`spec.mode: quick`, docs/adr/0009-catalog-tap-service.md): the TAP service watches the QueryJobs
// of its namespace and runs each quick one the operator has validated, quoted and set QUEUED in this process, no
// pod — the query-runner's runJob (READ ONLY, statement_timeout and deadline = executionDuration) on the SQL with
// `LIMIT maxRecords + 1` pushed into it, results and provenance manifest into `<dir>/<name>-<uid>/` on the
// catalog's results claim, as a runner Job writes them. Status: EXECUTING when taken (a resourceVersion-guarded
// write, so one replica takes a job), then COMPLETED with rows, overflow and results, or ERROR.

import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { classify } from '@skyport/query-runner/dist/src/errors.js';
import type { Format } from '@skyport/query-runner/dist/src/formats/index.js';
import type { ResultFile } from '@skyport/query-runner/dist/src/output.js';
import { manifestName, runJob } from '@skyport/query-runner/dist/src/run.js';
import { SpecError, type JobSpec } from '@skyport/query-runner/dist/src/spec.js';
import type { DbConfig } from './config.js';
import { KubeError, type KubeClient, type WatchEvent } from './kube.js';
import type { QueryJobObject } from './kubernetes.js';
import type { Clock } from '@skyport/service-kit/signing';
import { limitSql } from './sync.js';

export interface QuickRunnerOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** The Catalog whose quick jobs this service runs. */
  readonly catalog: { readonly name: string; readonly release?: string };
  /** Where the catalog's results claim is mounted (read-write). */
  readonly dir: string;
  readonly db: DbConfig;
  readonly now?: Clock;
  readonly log?: (msg: string, err?: unknown) => void;
}

/** A QueryJob as the quick runner reads it: the store's fields and those only quick jobs use. */
export type QuickJobObject = QueryJobObject & {
  metadata: { generation?: number; uid?: string };
  spec: {
    mode?: 'async' | 'quick';
    validateOnly?: boolean;
    output?: { splitMaxBytes?: string | number };
  };
  status?: {
    sql?: string;
    conditions?: { type: string; status: string; observedGeneration?: number }[];
  };
};

const GROUP_VERSION = 'skyport.io/v1alpha1';
/** Relist after a watch ends or fails, at most this often (ms). */
const RELIST_MS = 1_000;

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity of bytes ("100Mi", "5G", 1000) as a number; undefined when it is not one. */
export function quantityBytes(q: string | number): number | undefined {
  if (typeof q === 'number') return q;
  const m = /^([0-9]+(?:\.[0-9]+)?)(|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$/.exec(q);
  if (m === null) return undefined;
  return Math.floor(Number(m[1]) * (QUANTITY_SUFFIX[m[2] ?? ''] ?? 1));
}

/**
 * The query-runner spec of a quick job that is ready to run — quick, RUN, QUEUED by the operator after its
 * validation of this generation (status.sql, maxRecords and executionDuration are the operator's, in force) —
 * else undefined.
 */
export function quickSpec(q: QuickJobObject, dir: string, cfg: QuickRunnerOptions): JobSpec | undefined {
  const st = q.status ?? {};
  const validated = st.conditions?.find((c) => c.type === 'Validated');
  if (
    q.spec.mode !== 'quick' ||
    q.spec.phase !== 'RUN' ||
    q.spec.validateOnly === true ||
    st.phase !== 'QUEUED' ||
    validated?.status !== 'True' ||
    validated.observedGeneration !== q.metadata.generation ||
    st.sql === undefined ||
    st.maxRecords === undefined ||
    st.executionDuration === undefined
  )
    return undefined;
  const out = q.spec.output ?? {};
  const split = out.splitMaxBytes === undefined ? undefined : quantityBytes(out.splitMaxBytes);
  const db = cfg.db;
  return {
    query: limitSql(st.sql, st.maxRecords),
    catalog: cfg.catalog,
    connection: {
      ...(db.host !== undefined && { host: db.host }),
      ...(db.port !== undefined && { port: db.port }),
      ...(db.database !== undefined && { database: db.database }),
      ...(db.user !== undefined && { user: db.user }),
      ...(db.passwordFile !== undefined && { passwordFile: db.passwordFile }),
      // As the operator names a runner's backend (controllers/queryjob/build.ts): its ABORT cancels this one too.
      applicationName: `skyport-qj-${q.metadata.uid ?? ''}`.slice(0, 63),
    },
    output: {
      dir,
      stem: 'result',
      format: (out.format ?? 'csv') as Format,
      compression: out.compression === 'gzip' ? 'gzip' : 'none',
      ...(split !== undefined && { splitMaxBytes: split }),
    },
    maxRecords: st.maxRecords,
    executionDurationSeconds: st.executionDuration,
  };
}

/** status.results entries of a run: the data files, then the provenance manifest (as the runner reports them). */
export function statusResults(files: readonly ResultFile[]) {
  return files.map((f) => ({
    name: f.name,
    format: f.mediaType,
    rows: f.rows,
    bytes: f.bytes,
    sha256: f.sha256,
  }));
}

/** Watches the namespace's QueryJobs and runs the quick ones of one catalog. */
export class QuickRunner {
  private readonly closing = new AbortController();
  /** Jobs this process runs, by UID: aborting one cancels its backend (runJob). */
  private readonly running = new Map<string, AbortController>();
  private readonly done = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private readonly now: Clock;
  private readonly log: (msg: string, err?: unknown) => void;

  constructor(private readonly opts: QuickRunnerOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
  }

  private path(name?: string): string {
    const base = `/apis/${GROUP_VERSION}/namespaces/${this.opts.namespace}/queryjobs`;
    return name === undefined ? base : `${base}/${name}`;
  }

  /** Lists, then watches from the list's resourceVersion; relists whenever the watch ends. */
  start(): void {
    this.loop ??= (async () => {
      while (!this.closing.signal.aborted) {
        try {
          const l = await this.opts.client.request<{
            metadata: { resourceVersion?: string };
            items: QuickJobObject[];
          }>('GET', this.path());
          for (const q of l.items) this.consider(q);
          const params = new URLSearchParams({
            resourceVersion: l.metadata.resourceVersion ?? '0',
            allowWatchBookmarks: 'false',
          });
          await this.opts.client.watch(
            `${this.path()}?${params.toString()}`,
            (e: WatchEvent) => {
              if (e.type === 'ADDED' || e.type === 'MODIFIED') this.consider(e.object as QuickJobObject);
              else if (e.type === 'DELETED')
                this.running.get((e.object as QuickJobObject).metadata.uid ?? '')?.abort();
              return e.type === 'ERROR';
            },
            this.closing.signal,
          );
        } catch (err) {
          this.log('quick jobs: list or watch failed', err);
        }
        await new Promise((r) => setTimeout(r, RELIST_MS).unref());
      }
    })();
  }

  /** What one QueryJob event asks of this process. */
  private consider(q: QuickJobObject): void {
    if (q.spec.mode !== 'quick' || q.spec.catalogRef.name !== this.opts.catalog.name) return;
    const uid = q.metadata.uid ?? '';
    const run = this.running.get(uid);
    if (run !== undefined) {
      const over = ['ABORTED', 'ARCHIVED', 'ERROR', 'COMPLETED'].includes(q.status?.phase ?? '');
      if (q.spec.phase === 'ABORT' || over) run.abort();
      return;
    }
    const dir = join(this.opts.dir, `${q.metadata.name}-${uid}`);
    if (q.status?.phase === 'ARCHIVED' && q.status.startTime !== undefined) {
      this.track(this.archive(q, dir));
      return;
    }
    const spec = quickSpec(q, dir, this.opts);
    if (spec === undefined) return;
    const ctl = new AbortController();
    this.running.set(uid, ctl);
    this.track(
      this.run(q, spec, ctl.signal).finally(() => {
        this.running.delete(uid);
      }),
    );
  }

  private track(p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.log('quick job failed', err));
    this.done.add(t);
    void t.finally(() => this.done.delete(t));
  }

  /** Takes, runs and records one quick job. */
  private async run(q: QuickJobObject, spec: JobSpec, signal: AbortSignal): Promise<void> {
    const startTime = new Date(this.now()).toISOString();
    // The claim: only one replica's write from QUEUED at this resourceVersion succeeds.
    try {
      await this.patchStatus(q.metadata.name, { phase: 'EXECUTING', startTime }, q.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof KubeError && err.status === 409) return; // another replica, or the operator, came first
      throw err;
    }
    let status: Record<string, unknown>;
    try {
      const split = q.spec.output?.splitMaxBytes;
      if (split !== undefined && quantityBytes(split) === undefined)
        throw new SpecError([`spec.output.splitMaxBytes: ${split} is not a whole number of bytes`]);
      const manifest = await this.runOnce(spec, signal);
      const bytes = await readFile(join(spec.output.dir, manifestName(spec.output.stem)));
      const files: ResultFile[] = [
        ...manifest.files,
        {
          name: manifestName(spec.output.stem),
          mediaType: 'application/json',
          rows: 0,
          bytes: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        },
      ];
      status = {
        phase: 'COMPLETED',
        rows: manifest.rows,
        overflow: manifest.overflow,
        results: statusResults(files),
        endTime: new Date(this.now()).toISOString(),
      };
    } catch (err) {
      // ABORT, deletion or destruction: the operator writes the phase.
      if (signal.aborted) return;
      const e = classify(err);
      status = {
        phase: 'ERROR',
        error: { type: e.type, code: e.code, message: e.message.slice(0, 4000) },
        endTime: new Date(this.now()).toISOString(),
      };
    }
    await this.finish(q.metadata.name, status);
  }

  /** runJob, once more after a transient failure (as a runner Job's one retry). */
  private async runOnce(spec: JobSpec, signal: AbortSignal) {
    try {
      return await runJob(spec, { emit: () => undefined, signal });
    } catch (err) {
      if (signal.aborted || classify(err).type !== 'transient') throw err;
      return await runJob(spec, { emit: () => undefined, signal });
    }
  }

  /** Writes the outcome while the job is still EXECUTING (the operator may have aborted or archived it). */
  private async finish(name: string, status: Record<string, unknown>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let cur: QuickJobObject;
      try {
        cur = await this.opts.client.request<QuickJobObject>('GET', this.path(name));
      } catch (err) {
        if (err instanceof KubeError && err.status === 404) return;
        throw err;
      }
      if (cur.status?.phase !== 'EXECUTING') return;
      try {
        await this.patchStatus(name, status, cur.metadata.resourceVersion);
        return;
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409)) throw err;
      }
    }
  }

  /**
   * An ARCHIVED quick job that ran: its files deleted (this process wrote them, the operator has no pod to do it),
   * then its results dropped from status (the TAP's field: the operator's status write cannot drop it).
   */
  private async archive(q: QuickJobObject, dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    if ((q.status?.results?.length ?? 0) === 0) return;
    await this.patchStatus(q.metadata.name, { results: null }, q.metadata.resourceVersion).catch(
      (err: unknown) => {
        // A newer version: its event brings the job back here.
        if (!(err instanceof KubeError && err.status === 409)) throw err;
      },
    );
  }

  private async patchStatus(
    name: string,
    status: Record<string, unknown>,
    resourceVersion: string | undefined,
  ): Promise<void> {
    await this.opts.client.request(
      'PATCH',
      `${this.path(name)}/status`,
      {
        ...(resourceVersion !== undefined && { metadata: { resourceVersion } }),
        status,
      },
      'application/merge-patch+json',
    );
  }

  /** Stops watching and aborts the running jobs (their backends cancelled), waiting for them. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const c of this.running.values()) c.abort();
    await Promise.all([...this.done]);
    await this.loop;
  }
}
