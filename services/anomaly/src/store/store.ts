// The only module that reads and writes the service's Redis data: datasets, models, jobs and task outputs.

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Matrix } from '../engine/contract.js';
import { Keys } from './keys.js';
import { bufferToFloat64, concatRows, float64ToBuffer } from './matrix.js';

/** UWS job phases. */
export const PHASES = ['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'ERROR', 'ABORTED'] as const;
export type Phase = (typeof PHASES)[number];

/** Stored description of an uploaded dataset. */
export interface DatasetMeta {
  readonly id: string;
  readonly rows: number;
  readonly cols: number;
  /** Rows per chunk key; the last chunk may be shorter. */
  readonly chunkRows: number;
  readonly chunks: number;
  /** Column names from a CSV header or NDJSON object keys; null when the input had none. */
  readonly columns: readonly string[] | null;
  readonly format: 'csv' | 'ndjson' | 'binary' | 'json';
  readonly createdAt: string;
  /** Temporary datasets (inputs of async score jobs) expire. */
  readonly temporary: boolean;
}

/**
 * Stored, immutable record of a fitted model: what the caller asked for (name, threshold, dataset, columns) and
 * the content hash of its forest. Two fits that build the same forest get two records sharing one copy of its bytes.
 */
export interface ModelMeta {
  /** The record's id: {@link modelRecordId} of the fit job and the content hash. */
  readonly id: string;
  /** sha256 of the encoded forest; the bytes are stored once per tenant under it. */
  readonly contentHash: string;
  readonly name: string;
  readonly version: number;
  readonly createdAt: string;
  readonly datasetId: string;
  readonly dims: number;
  readonly columns: readonly string[] | null;
  readonly params: Readonly<Record<string, unknown>>;
  /** ψ after clamping to the dataset's row count. */
  readonly effectiveSampleSize: number;
  readonly threshold: number;
  readonly thresholdSource: 'contamination' | 'explicit';
  readonly contamination: number | null;
  readonly trainingRows: number;
  readonly bytes: number;
}

/** A job as stored in its Redis hash. */
export interface JobRecord {
  readonly id: string;
  readonly tenant: string;
  readonly kind: 'fit' | 'score';
  readonly phase: Phase;
  readonly tasks: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** JSON of the request (fit params or score options). */
  readonly spec: string;
  /** JSON result once COMPLETED. */
  readonly result: string | null;
  /** JSON `{code, message}` once ERROR. */
  readonly error: string | null;
}

// Moves a job to a new phase only from one of the listed phases, so a late worker cannot resurrect an
// ABORTED job or overwrite COMPLETED with EXECUTING.
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'phase')
if not cur then return 0 end
for from in string.gmatch(ARGV[2], '[^,]+') do
  if from == cur then
    redis.call('HSET', KEYS[1], 'phase', ARGV[1])
    for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    return 1
  end
end
return 0`;

// Stores a model record once: a re-run of the assemble step after a crash finds the record and returns it
// instead of bumping the name's version a second time. The forest's bytes are content-addressed and written
// only if absent (equal content, equal bytes), so records of equal forests share them.
const PUT_MODEL = `
local existing = redis.call('GET', KEYS[2])
if existing then return existing end
local v = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
local meta = string.gsub(ARGV[2], '"version":0', '"version":' .. v, 1)
redis.call('SET', KEYS[1], ARGV[1], 'NX')
redis.call('SET', KEYS[2], meta)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
return meta`;

const DAY_S = 24 * 3600;

/** Redis-backed storage of the service's binary data and records. */
export class Store {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    prefix: string,
    /** Seconds temporary inputs and task outputs live. */
    readonly ttlSeconds = 7 * DAY_S,
  ) {
    this.keys = new Keys(prefix);
  }

  // ---------- datasets ----------

  /** Writes one dataset chunk (row-major float64). */
  async putDatasetChunk(
    tenant: string,
    id: string,
    i: number,
    data: Float64Array,
    temporary: boolean,
  ): Promise<void> {
    const key = this.keys.datasetChunk(tenant, id, i);
    if (temporary) await this.redis.set(key, float64ToBuffer(data), 'EX', this.ttlSeconds);
    else await this.redis.set(key, float64ToBuffer(data));
  }

  /** Publishes a dataset once all its chunks are written. */
  async putDatasetMeta(tenant: string, meta: DatasetMeta): Promise<void> {
    const key = this.keys.dataset(tenant, meta.id);
    const m = this.redis.multi();
    if (meta.temporary) m.set(key, JSON.stringify(meta), 'EX', this.ttlSeconds);
    else
      m.set(key, JSON.stringify(meta)).zadd(
        this.keys.datasetIndex(tenant),
        Date.parse(meta.createdAt),
        meta.id,
      );
    await m.exec();
  }

  async getDatasetMeta(tenant: string, id: string): Promise<DatasetMeta | null> {
    const raw = await this.redis.get(this.keys.dataset(tenant, id));
    return raw === null ? null : (JSON.parse(raw) as DatasetMeta);
  }

  async listDatasets(tenant: string): Promise<DatasetMeta[]> {
    const ids = await this.redis.zrange(this.keys.datasetIndex(tenant), '0', '-1');
    const metas = await Promise.all(ids.map((id) => this.getDatasetMeta(tenant, id)));
    return metas.filter((m): m is DatasetMeta => m !== null);
  }

  /** Deletes a dataset's chunks and record; `chunks` bounds the keys to remove even for a partial upload. */
  async deleteDataset(tenant: string, id: string, chunks: number): Promise<void> {
    const keys = [this.keys.dataset(tenant, id)];
    for (let i = 0; i < chunks; i++) keys.push(this.keys.datasetChunk(tenant, id, i));
    await this.redis
      .multi()
      .del(...keys)
      .zrem(this.keys.datasetIndex(tenant), id)
      .exec();
  }

  async getDatasetChunk(tenant: string, id: string, i: number): Promise<Float64Array> {
    const buf = await this.redis.getBuffer(this.keys.datasetChunk(tenant, id, i));
    if (buf === null) throw new MissingDataError(`dataset ${id} chunk ${i} is missing`);
    return bufferToFloat64(buf);
  }

  /** Loads a whole dataset (for fitting, which needs every row). */
  async getDataset(tenant: string, meta: DatasetMeta): Promise<Matrix> {
    const p = this.redis.pipeline();
    for (let i = 0; i < meta.chunks; i++) p.getBuffer(this.keys.datasetChunk(tenant, meta.id, i));
    const res = (await p.exec()) ?? [];
    const chunks = res.map(([err, buf], i) => {
      if (err) throw err;
      if (!(buf instanceof Uint8Array))
        throw new MissingDataError(`dataset ${meta.id} chunk ${i} is missing`);
      return bufferToFloat64(buf);
    });
    return concatRows(chunks, meta.cols);
  }

  // ---------- models ----------

  /**
   * Stores a model record once, and its encoded forest under the content hash (default: the record id, for
   * records whose id is the content hash); returns the stored record (an earlier copy on a re-run).
   */
  async putModel(
    tenant: string,
    bytes: Uint8Array,
    meta: Omit<ModelMeta, 'version' | 'contentHash'> & { readonly contentHash?: string },
  ): Promise<ModelMeta> {
    // version first, so the Lua gsub replaces this field and never a same-named one nested in params
    const draft: ModelMeta = { version: 0, ...meta, contentHash: meta.contentHash ?? meta.id };
    const stored = (await this.redis.eval(
      PUT_MODEL,
      4,
      this.keys.model(tenant, draft.contentHash),
      this.keys.modelMeta(tenant, meta.id),
      this.keys.modelVersions(tenant),
      this.keys.modelIndex(tenant),
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      JSON.stringify(draft),
      meta.name,
      String(Date.parse(meta.createdAt)),
      meta.id,
    )) as string;
    return JSON.parse(stored) as ModelMeta;
  }

  async getModelMeta(tenant: string, id: string): Promise<ModelMeta | null> {
    const raw = await this.redis.get(this.keys.modelMeta(tenant, id));
    return raw === null ? null : (JSON.parse(raw) as ModelMeta);
  }

  /** The encoded forest of model record `id`, or null when there is no such record. */
  async getModelBytes(tenant: string, id: string): Promise<Buffer | null> {
    const meta = await this.getModelMeta(tenant, id);
    return meta === null ? null : this.getModelContent(tenant, meta);
  }

  /** The encoded forest of a model record (records written before content hashes were kept use their id). */
  async getModelContent(tenant: string, meta: ModelMeta): Promise<Buffer | null> {
    return this.redis.getBuffer(this.keys.model(tenant, meta.contentHash ?? meta.id));
  }

  async listModels(tenant: string): Promise<ModelMeta[]> {
    const ids = await this.redis.zrange(this.keys.modelIndex(tenant), '0', '-1');
    const metas = await Promise.all(ids.map((id) => this.getModelMeta(tenant, id)));
    return metas.filter((m): m is ModelMeta => m !== null);
  }

  // ---------- jobs ----------

  async createJob(job: JobRecord): Promise<void> {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(job)) if (v !== null) fields[k] = String(v);
    const key = this.keys.job(job.tenant, job.id);
    const index = this.keys.jobIndex(job.tenant);
    const at = Date.parse(job.createdAt);
    const created = Number.isFinite(at) ? at : Date.now();
    await this.redis
      .multi()
      .hset(key, fields)
      .expire(key, this.ttlSeconds)
      .zadd(index, created, job.id)
      // Jobs older than the TTL have expired: their index entries go with the next new job.
      .zremrangebyscore(index, '-inf', `(${created - this.ttlSeconds * 1000}`)
      .exec();
  }

  /**
   * A tenant's jobs, newest first: at most `limit` of those `keep` accepts. Reads the index in pages; an id whose
   * record has expired is dropped from the index on the way.
   */
  async listJobs(
    tenant: string,
    limit: number,
    keep: (j: JobRecord) => boolean = () => true,
  ): Promise<JobRecord[]> {
    const index = this.keys.jobIndex(tenant);
    const out: JobRecord[] = [];
    const PAGE = 200;
    for (let start = 0; out.length < limit; start += PAGE) {
      const ids = await this.redis.zrevrange(index, start, start + PAGE - 1);
      if (ids.length === 0) break;
      const jobs = await Promise.all(ids.map((id) => this.getJob(tenant, id)));
      const gone = ids.filter((_, i) => jobs[i] === null);
      if (gone.length > 0) {
        await this.redis.zrem(index, ...gone);
        start -= gone.length;
      }
      for (const j of jobs) if (j !== null && keep(j) && out.length < limit) out.push(j);
      if (ids.length < PAGE) break;
    }
    return out;
  }

  async getJob(tenant: string, id: string): Promise<JobRecord | null> {
    const h = await this.redis.hgetall(this.keys.job(tenant, id));
    if (!h['id']) return null;
    return {
      id: h['id'],
      tenant: h['tenant'] ?? tenant,
      kind: h['kind'] === 'fit' ? 'fit' : 'score',
      phase: (h['phase'] ?? 'PENDING') as Phase,
      tasks: Number(h['tasks'] ?? 0),
      createdAt: h['createdAt'] ?? '',
      startedAt: h['startedAt'] ?? null,
      endedAt: h['endedAt'] ?? null,
      spec: h['spec'] ?? '{}',
      result: h['result'] ?? null,
      error: h['error'] ?? null,
    };
  }

  /** Atomically moves a job to `to` if its phase is one of `from`; returns whether it moved. */
  async transition(
    tenant: string,
    id: string,
    from: readonly Phase[],
    to: Phase,
    fields: Record<string, string> = {},
  ): Promise<boolean> {
    const args: string[] = [to, from.join(',')];
    for (const [k, v] of Object.entries(fields)) args.push(k, v);
    const r = await this.redis.eval(TRANSITION, 1, this.keys.job(tenant, id), ...args);
    return r === 1;
  }

  /** Number of finished tasks of a job. */
  async doneCount(tenant: string, id: string): Promise<number> {
    return this.redis.scard(this.keys.jobDone(tenant, id));
  }

  /**
   * Records the output of task `i`: SET rewrites identical bytes on a redelivery and SADD counts it once,
   * in one MULTI so a crash never leaves "done" without its output.
   */
  async putTaskOutput(
    tenant: string,
    jobId: string,
    i: number,
    bytes: Uint8Array,
    flagged?: number,
  ): Promise<void> {
    const m = this.redis
      .multi()
      .set(
        this.keys.jobChunk(tenant, jobId, i),
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        'EX',
        this.ttlSeconds,
      )
      .sadd(this.keys.jobDone(tenant, jobId), String(i))
      .expire(this.keys.jobDone(tenant, jobId), this.ttlSeconds);
    if (flagged !== undefined) {
      m.hset(this.keys.jobFlagged(tenant, jobId), String(i), String(flagged)).expire(
        this.keys.jobFlagged(tenant, jobId),
        this.ttlSeconds,
      );
    }
    await m.exec();
  }

  async getTaskOutput(tenant: string, jobId: string, i: number): Promise<Buffer> {
    const buf = await this.redis.getBuffer(this.keys.jobChunk(tenant, jobId, i));
    if (buf === null) throw new MissingDataError(`job ${jobId} output ${i} is missing`);
    return buf;
  }

  /** Sum of per-chunk flagged counts. */
  async flaggedTotal(tenant: string, jobId: string): Promise<number> {
    const vals = await this.redis.hvals(this.keys.jobFlagged(tenant, jobId));
    return vals.reduce((s, v) => s + Number(v), 0);
  }
}

/**
 * The id of the model record a fit job makes: sha256 of the job id and the forest's content hash, so a re-run of
 * the job's assemble step finds its record, and another fit that builds the same forest gets a record of its own.
 */
export function modelRecordId(jobId: string, contentHash: string): string {
  return createHash('sha256').update(`${jobId}\n${contentHash}`).digest('hex');
}

/** Data a task needs is gone (expired or deleted); retrying cannot help. */
export class MissingDataError extends Error {
  override name = 'MissingDataError';
}
