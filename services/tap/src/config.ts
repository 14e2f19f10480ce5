// The TAP service's environment, validated once at start-up so a typo fails fast naming the variable.

import { readFileSync } from 'node:fs';
import type { S3ResultsConfig } from './s3results.js';

/** How the service reaches the catalog's PostgreSQL (a read-only role). Unset fields: libpq's PG* env. */
export interface DbConfig {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  /** A file holding the password (a mounted Secret). */
  readonly passwordFile?: string;
}

export interface TapConfig {
  readonly host: string;
  readonly port: number;
  /** Path prefix of every TAP route, e.g. `/tap` (no trailing slash; empty for the root). */
  readonly basePath: string;
  readonly db: DbConfig;
  /** Catalog name and release, for provenance. */
  readonly catalog: { readonly name: string; readonly release?: string };
  /** Schemas /tables lists and a query may name. */
  readonly schemas: readonly string[];
  /** `user token` lines (a mounted Secret): who a bearer token is. */
  readonly tokensFile: string;
  /** The HMAC key of result URLs (a mounted Secret; at least 32 bytes). */
  readonly signingKeyFile: string;
  /** How long a signed result URL stays valid. */
  readonly resultUrlSeconds: number;
  /** Directory of async results, one subdirectory per job (unused for results in a bucket). */
  readonly resultsDir: string;
  /**
   * The Catalog's bucket (TAP_RESULTS_S3_*; the kubernetes store only): result links are then presigned GETs of
   * the objects, signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
   */
  readonly resultsS3?: S3ResultsConfig;
  /** MAXREC when the request gives none, and the most a request may ask for (sync and async). */
  readonly maxrecDefault: number;
  readonly maxrecHard: number;
  /** A /sync query's time limit (PostgreSQL statement_timeout and the handler's deadline). */
  readonly syncTimeoutSeconds: number;
  /** executionDuration of an async job: default and the most a job may ask for. */
  readonly executionDurationDefault: number;
  readonly executionDurationHard: number;
  /** Retention: destruction = creation + this, and the latest a job may ask for. */
  readonly destructionDefaultSeconds: number;
  readonly destructionHardSeconds: number;
  /** Async jobs EXECUTING at once per user; the rest wait in QUEUED. */
  readonly maxConcurrentJobsPerUser: number;
  /** Longest blocking WAIT a request may ask for (WAIT=-1 means this). */
  readonly maxWaitSeconds: number;
  /**
   * Where async jobs live: `memory` (InProcessJobStore: run in this process, forgotten on restart; tests and
   * development) or `kubernetes` (KubernetesJobStore: each job a QueryJob in `namespace`, run by the operator).
   */
  readonly jobStore: 'memory' | 'kubernetes';
  /** The QueryJobs' namespace (kubernetes store); the pod's own namespace when unset. */
  readonly namespace?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw.trim());
  if (v < min || v > max) throw new ConfigError(name, `must be in [${min}, ${max}], got ${v}`);
  return v;
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(name, 'is required');
  return v.trim();
}

/** TAP_JOB_STORE and TAP_NAMESPACE. */
function jobStoreConfig(env: Env): Pick<TapConfig, 'jobStore' | 'namespace'> {
  const jobStore = (env['TAP_JOB_STORE'] ?? 'memory').trim();
  if (jobStore !== 'memory' && jobStore !== 'kubernetes')
    throw new ConfigError('TAP_JOB_STORE', `expected memory or kubernetes, got ${JSON.stringify(jobStore)}`);
  const namespace = env['TAP_NAMESPACE']?.trim();
  if (namespace === undefined || namespace === '') return { jobStore };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)
    throw new ConfigError('TAP_NAMESPACE', `'${namespace}' is not a namespace name`);
  return { jobStore, namespace };
}

/** TAP_RESULTS_S3_{ENDPOINT,BUCKET,REGION,FORCE_PATH_STYLE,PREFIX}; undefined when no bucket is named. */
function s3Config(env: Env): S3ResultsConfig | undefined {
  const bucket = env['TAP_RESULTS_S3_BUCKET']?.trim();
  if (bucket === undefined || bucket === '') return undefined;
  const endpoint = required(env, 'TAP_RESULTS_S3_ENDPOINT').replace(/\/$/, '');
  if (!/^https?:\/\/[^/?#\s]+$/.test(endpoint))
    throw new ConfigError(
      'TAP_RESULTS_S3_ENDPOINT',
      `expected http(s)://host[:port], got ${JSON.stringify(endpoint)}`,
    );
  const fps = (env['TAP_RESULTS_S3_FORCE_PATH_STYLE'] ?? 'false').trim();
  if (fps !== 'true' && fps !== 'false')
    throw new ConfigError(
      'TAP_RESULTS_S3_FORCE_PATH_STYLE',
      `expected true or false, got ${JSON.stringify(fps)}`,
    );
  const prefix = (env['TAP_RESULTS_S3_PREFIX'] ?? '').trim();
  if (prefix.startsWith('/') || prefix.endsWith('/'))
    throw new ConfigError(
      'TAP_RESULTS_S3_PREFIX',
      `must not start or end with '/', got ${JSON.stringify(prefix)}`,
    );
  return {
    endpoint,
    bucket,
    region: (env['TAP_RESULTS_S3_REGION'] ?? '').trim() || 'us-east-1',
    forcePathStyle: fps === 'true',
    prefix,
  };
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Reads the configuration from `env` (process.env in main.ts). */
export function loadConfig(env: Env): TapConfig {
  const basePath = (env['TAP_BASE_PATH'] ?? '/tap').replace(/\/+$/, '');
  if (basePath !== '' && !/^(\/[A-Za-z0-9._-]+)+$/.test(basePath))
    throw new ConfigError('TAP_BASE_PATH', `expected a path such as /tap, got ${JSON.stringify(basePath)}`);
  const schemas = (env['TAP_SCHEMAS'] ?? 'public')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of schemas)
    if (!IDENT.test(s)) throw new ConfigError('TAP_SCHEMAS', `'${s}' is not a lower-case schema name`);
  if (schemas.length === 0) throw new ConfigError('TAP_SCHEMAS', 'names no schema');
  const maxrecHard = int(env, 'TAP_MAXREC_HARD', 1_000_000, 1, 1e9);
  const executionDurationHard = int(env, 'TAP_EXECUTION_DURATION_HARD', 3600, 1, 7 * 86400);
  const destructionHardSeconds = int(env, 'TAP_DESTRUCTION_HARD_SECONDS', 30 * 86400, 60, 3650 * 86400);
  const port = env['PGPORT'] === undefined ? undefined : int(env, 'PGPORT', 5432, 1, 65535);
  const release = env['TAP_CATALOG_RELEASE'];
  const resultsS3 = s3Config(env);
  const store = jobStoreConfig(env);
  if (resultsS3 !== undefined && store.jobStore !== 'kubernetes')
    throw new ConfigError('TAP_RESULTS_S3_BUCKET', 'results in a bucket need TAP_JOB_STORE=kubernetes');
  const db: DbConfig = {
    ...(env['PGHOST'] !== undefined && { host: env['PGHOST'] }),
    ...(port !== undefined && { port }),
    ...(env['PGDATABASE'] !== undefined && { database: env['PGDATABASE'] }),
    ...(env['PGUSER'] !== undefined && { user: env['PGUSER'] }),
    ...(env['PGPASSWORD_FILE'] !== undefined && { passwordFile: env['PGPASSWORD_FILE'] }),
  };
  return {
    host: env['HOST'] ?? '0.0.0.0',
    port: int(env, 'PORT', 8080, 0, 65535),
    basePath,
    db,
    catalog: {
      name: env['TAP_CATALOG_NAME'] ?? 'catalog',
      ...(release !== undefined && release !== '' && { release }),
    },
    schemas,
    tokensFile: required(env, 'TAP_TOKENS_FILE'),
    signingKeyFile: required(env, 'TAP_SIGNING_KEY_FILE'),
    resultUrlSeconds: int(env, 'TAP_RESULT_URL_SECONDS', 900, 1, 86400),
    // With a bucket the runner Jobs publish the results; no directory is read.
    resultsDir: resultsS3 === undefined ? required(env, 'TAP_RESULTS_DIR') : (env['TAP_RESULTS_DIR'] ?? ''),
    ...(resultsS3 !== undefined && { resultsS3 }),
    maxrecDefault: int(env, 'TAP_MAXREC_DEFAULT', Math.min(100_000, maxrecHard), 0, maxrecHard),
    maxrecHard,
    syncTimeoutSeconds: int(env, 'TAP_SYNC_TIMEOUT_SECONDS', 60, 1, 3600),
    executionDurationDefault: int(
      env,
      'TAP_EXECUTION_DURATION_DEFAULT',
      Math.min(600, executionDurationHard),
      1,
      executionDurationHard,
    ),
    executionDurationHard,
    destructionDefaultSeconds: int(
      env,
      'TAP_DESTRUCTION_DEFAULT_SECONDS',
      Math.min(7 * 86400, destructionHardSeconds),
      60,
      destructionHardSeconds,
    ),
    destructionHardSeconds,
    maxConcurrentJobsPerUser: int(env, 'TAP_MAX_CONCURRENT_JOBS_PER_USER', 2, 1, 1000),
    maxWaitSeconds: int(env, 'TAP_MAX_WAIT_SECONDS', 60, 0, 3600),
    ...store,
  };
}

/** Reads the signing key file; refuses a key shorter than 32 bytes. */
export function readSigningKey(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  if (key.length < 32)
    throw new ConfigError(
      'TAP_SIGNING_KEY_FILE',
      `the key in ${path} is ${key.length} bytes; at least 32 needed`,
    );
  return key;
}
