// Environment configuration for the API and worker processes, validated once at start-up so a typo fails fast.

/** A tenant: every bearer token maps to one tenant, which owns its datasets, models and jobs. */
export interface Tenant {
  readonly name: string;
  readonly token: string;
}

/** Settings shared by the API and the worker processes. */
export interface CommonConfig {
  /** redis://host:port[/db] of the broker and store. */
  readonly redisUrl: string;
  /** Prefix of every Redis key and BullMQ queue (one prefix per deployment, or per test). */
  readonly keyPrefix: string;
  readonly logLevel: string;
  /** Rows per stored binary chunk; also the unit of scoring work. */
  readonly chunkRows: number;
}

/** API process settings. */
export interface ApiConfig extends CommonConfig {
  readonly host: string;
  readonly port: number;
  readonly tenants: readonly Tenant[];
  /** Largest accepted request body in bytes (uploads and score bodies). */
  readonly maxUploadBytes: number;
  /** Score requests up to this many rows are answered synchronously. */
  readonly maxSyncRows: number;
  /** Largest accepted feature count. */
  readonly maxCols: number;
  /** Hostnames (exact, or `*.suffix`) webhooks may target; empty = any host except link-local (instance metadata) ones. */
  readonly webhookAllowedHosts: readonly string[];
  /** Attempts per webhook delivery (first try included). */
  readonly webhookAttempts: number;
  /** First retry delay in ms; doubles per attempt. */
  readonly webhookBackoffMs: number;
}

/** Worker process settings. */
export interface WorkerConfig extends CommonConfig {
  /** worker_threads doing CPU work; BullMQ concurrency is threads + 1 so I/O overlaps compute. */
  readonly threads: number;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  /** Grace period for in-flight tasks on SIGTERM before they are released. */
  readonly shutdownGraceMs: number;
  /** Port of the worker's /metrics and /healthz server; 0 = none. */
  readonly metricsPort: number;
}

/** A configuration value that failed validation; names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw.trim());
  if (v < min || v > max) throw new ConfigError(name, `must be in [${min}, ${max}], got ${v}`);
  return v;
}

function common(env: Env): CommonConfig {
  const redisUrl = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new ConfigError('REDIS_URL', `not a URL: ${JSON.stringify(redisUrl)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `scheme must be redis: or rediss:, got ${url.protocol}`);
  }
  const keyPrefix = env['KEY_PREFIX'] ?? 'skyport:anomaly';
  if (!/^[A-Za-z0-9:_.{}-]+$/.test(keyPrefix)) {
    throw new ConfigError('KEY_PREFIX', 'only letters, digits and : _ . { } - are allowed');
  }
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level ${JSON.stringify(logLevel)}`);
  }
  // ≥ 25k rows per chunk keeps broker overhead near 1% (research note §3.3); smaller only for tests.
  const chunkRows = int(env, 'CHUNK_ROWS', 50_000, 1_000, 1_000_000);
  return { redisUrl, keyPrefix, logLevel, chunkRows };
}

/** Parses `TOKENS` as `tenant=token[,tenant=token…]`. */
export function parseTokens(raw: string | undefined): Tenant[] {
  if (raw === undefined || raw.trim() === '')
    throw new ConfigError('TOKENS', 'at least one tenant=token pair is required');
  const tenants: Tenant[] = [];
  const seenTokens = new Set<string>();
  for (const [i, pair] of raw.split(',').entries()) {
    const m = /^\s*([A-Za-z0-9_-]{1,64})=([\x21-\x7e]{16,})\s*$/.exec(pair);
    if (!m?.[1] || !m[2]) {
      throw new ConfigError(
        'TOKENS',
        `entry ${i + 1} must be tenant=token (tenant [A-Za-z0-9_-]{1,64}, token ≥ 16 printable chars)`,
      );
    }
    if (seenTokens.has(m[2])) throw new ConfigError('TOKENS', `entry ${i + 1} repeats a token`);
    seenTokens.add(m[2]);
    tenants.push({ name: m[1], token: m[2] });
  }
  return tenants;
}

/** Reads and validates the API process configuration. */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const hosts = (env['WEBHOOK_ALLOWED_HOSTS'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const h of hosts) {
    if (!/^(\*\.)?[a-z0-9.-]+$|^\[[0-9a-f:]+\]$/.test(h))
      throw new ConfigError('WEBHOOK_ALLOWED_HOSTS', `bad host pattern ${JSON.stringify(h)}`);
  }
  return {
    ...common(env),
    host: env['HOST'] ?? '0.0.0.0',
    port: int(env, 'PORT', 8080, 0, 65535),
    tenants: parseTokens(env['TOKENS']),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 512 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
    maxSyncRows: int(env, 'MAX_SYNC_ROWS', 10_000, 1, 100_000),
    maxCols: int(env, 'MAX_COLS', 4096, 1, 65_535),
    webhookAllowedHosts: hosts,
    webhookAttempts: int(env, 'WEBHOOK_ATTEMPTS', 5, 1, 20),
    webhookBackoffMs: int(env, 'WEBHOOK_BACKOFF_MS', 200, 1, 60_000),
  };
}

/** Reads and validates the worker process configuration. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const threads = int(env, 'WORKER_THREADS', 1, 1, 64);
  const lockDurationMs = int(env, 'LOCK_DURATION_MS', 30_000, 500, 3_600_000);
  return {
    ...common(env),
    threads,
    concurrency: int(env, 'WORKER_CONCURRENCY', threads + 1, 1, 256),
    lockDurationMs,
    stalledIntervalMs: int(env, 'STALLED_INTERVAL_MS', Math.min(30_000, lockDurationMs), 100, 3_600_000),
    maxStalledCount: int(env, 'MAX_STALLED_COUNT', 3, 0, 100),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 20_000, 0, 600_000),
    metricsPort: int(env, 'METRICS_PORT', 0, 0, 65535),
  };
}

/**
 * Loads a process's configuration once at start-up; a bad value ends the process with exit code 2 and a
 * message naming the variable, before anything connects or listens.
 */
export function loadConfigOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
