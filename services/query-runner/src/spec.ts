// The runner's job spec: what the operator writes for one QueryJob run (a JSON file mounted into the pod,
// or the SKYPORT_JOB_SPEC environment variable). parseSpec checks it whole and names every bad field by
// its path; the connection's password never appears in it (a Secret mounted as a file, or PGPASSWORD).

import { FORMATS, isFormat, type Format } from './formats/info.js';
import { checkOutput } from './files.js';
import type { ProgressTarget } from './progress.js';

export interface JobSpec {
  readonly query: string;
  /** For the provenance manifest. */
  readonly catalog: { readonly name: string; readonly release?: string };
  /** Unset fields fall back to libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD). */
  readonly connection: {
    readonly host?: string;
    readonly port?: number;
    readonly database?: string;
    readonly user?: string;
    /** A file holding the password (a mounted Secret); trailing newlines are dropped. */
    readonly passwordFile?: string;
    /**
     * PostgreSQL application_name (≤ 63 bytes), `skyport-query-runner` by default: the operator names each job's
     * backend so that an ABORT can find it in pg_stat_activity.
     */
    readonly applicationName?: string;
  };
  readonly output: {
    readonly dir: string;
    readonly stem: string;
    readonly format: Format;
    readonly compression: 'none' | 'gzip';
    readonly splitMaxBytes?: number;
    /**
     * Publish the finished files to this bucket under `prefix` (the manifest last); `dir` is then only scratch.
     * The keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Secret, never in the spec).
     */
    readonly s3?: S3Output;
  };
  readonly maxRecords?: number;
  /** The whole run's deadline, and PostgreSQL's statement_timeout. */
  readonly executionDurationSeconds: number;
  /** Rows per cursor fetch: 10,000 by default. */
  readonly batchRows?: number;
  /**
   * The QueryJob whose `status.progress` the run patches while it runs (progress.ts), with the pod's
   * ServiceAccount token; absent outside Kubernetes.
   */
  readonly progress?: ProgressTarget;
}

/** Where results are published in an S3-compatible bucket. */
export interface S3Output {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** The job's key prefix, ending in `/` (`<catalog prefix>/<namespace>/<queryjob>/<uid>/`). */
  readonly prefix: string;
}

/** A spec that cannot run: every problem, each as `path: reason`. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid job spec: ${problems.join('; ')}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads fields of one object, collecting problems under its path. */
class Fields {
  constructor(
    private readonly o: Obj,
    private readonly path: string,
    private readonly problems: string[],
    known: readonly string[],
  ) {
    for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${path}.${k}: unknown field`);
  }

  private bad(key: string, reason: string): undefined {
    this.problems.push(`${this.path}.${key}: ${reason}`);
    return undefined;
  }

  has(key: string): boolean {
    return this.o[key] !== undefined;
  }

  string(key: string, required: boolean): string | undefined {
    const v = this.o[key];
    if (v === undefined) return required ? this.bad(key, 'required') : undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.bad(key, 'must be a non-empty string');
    return v;
  }

  int(key: string, min: number, required: boolean): number | undefined {
    const v = this.o[key];
    if (v === undefined) return required ? this.bad(key, 'required') : undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      return this.bad(key, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.bad(key, 'must be true or false');
    return v;
  }

  object(key: string): Obj {
    const v = this.o[key];
    if (v === undefined) return {};
    if (!isObj(v)) {
      this.bad(key, 'must be an object');
      return {};
    }
    return v;
  }
}

/** T with its possibly-undefined fields made optional (exactOptionalPropertyTypes). */
type Clean<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops undefined fields. */
const pick = <T extends object>(o: T): Clean<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Clean<T>;

/** Checks `raw` (parsed JSON) and returns the spec, or throws a SpecError listing every problem. */
export function parseSpec(raw: unknown): JobSpec {
  const problems: string[] = [];
  if (!isObj(raw)) throw new SpecError(['spec: must be a JSON object']);
  const top = new Fields(raw, 'spec', problems, [
    'query',
    'catalog',
    'connection',
    'output',
    'maxRecords',
    'executionDurationSeconds',
    'batchRows',
    'progress',
  ]);
  const query = top.string('query', true);
  const cat = new Fields(top.object('catalog'), 'spec.catalog', problems, ['name', 'release']);
  const catalog = pick({ name: cat.string('name', true) ?? '', release: cat.string('release', false) });
  const c = new Fields(top.object('connection'), 'spec.connection', problems, [
    'host',
    'port',
    'database',
    'user',
    'passwordFile',
    'applicationName',
  ]);
  const connection = pick({
    host: c.string('host', false),
    port: c.int('port', 1, false),
    database: c.string('database', false),
    user: c.string('user', false),
    passwordFile: c.string('passwordFile', false),
    applicationName: c.string('applicationName', false),
  });
  if (connection.applicationName !== undefined && !/^[\x20-\x7e]{1,63}$/.test(connection.applicationName))
    problems.push('spec.connection.applicationName: must be 1 to 63 printable ASCII characters');
  const o = new Fields(top.object('output'), 'spec.output', problems, [
    'dir',
    'stem',
    'format',
    'compression',
    'splitMaxBytes',
    's3',
  ]);
  const dir = o.string('dir', true);
  const stem = o.string('stem', false) ?? 'result';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stem))
    problems.push(`spec.output.stem: '${stem}' must be letters, digits, '.', '_' or '-'`);
  const format = o.string('format', true);
  if (format !== undefined && !isFormat(format))
    problems.push(`spec.output.format: '${format}' is not one of ${FORMATS.join(', ')}`);
  const compression = o.string('compression', false) ?? 'none';
  if (compression !== 'none' && compression !== 'gzip')
    problems.push(`spec.output.compression: '${compression}' is not one of none, gzip`);
  const splitMaxBytes = o.int('splitMaxBytes', 1, false);
  if (format !== undefined && isFormat(format) && (compression === 'none' || compression === 'gzip')) {
    try {
      checkOutput({ format, compression });
    } catch (err) {
      problems.push(`spec.output.${(err as Error).message}`);
    }
  }
  const s3 = o.has('s3') ? parseS3(o.object('s3'), problems) : undefined;
  const maxRecords = top.int('maxRecords', 0, false);
  const executionDurationSeconds = top.int('executionDurationSeconds', 1, true);
  const batchRows = top.int('batchRows', 1, false);
  const progress = raw['progress'] === undefined ? undefined : progressTarget(top, problems);
  if (problems.length > 0) throw new SpecError(problems);
  return pick({
    query: query ?? '',
    catalog,
    connection,
    output: pick({
      dir: dir ?? '',
      stem,
      format: format as Format,
      compression: compression as 'none' | 'gzip',
      splitMaxBytes,
      s3,
    }),
    maxRecords,
    executionDurationSeconds: executionDurationSeconds ?? 0,
    batchRows,
    progress,
  });
}

function parseS3(raw: Obj, problems: string[]): S3Output {
  const f = new Fields(raw, 'spec.output.s3', problems, [
    'endpoint',
    'bucket',
    'region',
    'forcePathStyle',
    'prefix',
  ]);
  const endpoint = f.string('endpoint', true) ?? '';
  if (endpoint !== '' && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint))
    problems.push(`spec.output.s3.endpoint: '${endpoint}' must be http(s)://host[:port] with no path`);
  const bucket = f.string('bucket', true) ?? '';
  const prefix = f.string('prefix', true) ?? '';
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('//')))
    problems.push(`spec.output.s3.prefix: '${prefix}' must end in '/' and have no empty segment`);
  return {
    endpoint: endpoint.replace(/\/$/, ''),
    bucket,
    region: f.string('region', false) ?? 'us-east-1',
    forcePathStyle: f.bool('forcePathStyle') ?? false,
    prefix,
  };
}

/** spec.progress: the QueryJob's namespace and name (DNS labels / subdomains), the interval. */
function progressTarget(top: Fields, problems: string[]): ProgressTarget {
  const p = new Fields(top.object('progress'), 'spec.progress', problems, [
    'namespace',
    'name',
    'intervalSeconds',
  ]);
  const namespace = p.string('namespace', true) ?? '';
  const name = p.string('name', true) ?? '';
  if (namespace !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace))
    problems.push(`spec.progress.namespace: '${namespace}' is not a namespace name`);
  if (name !== '' && !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(name))
    problems.push(`spec.progress.name: '${name}' is not a resource name`);
  return pick({ namespace, name, intervalSeconds: p.int('intervalSeconds', 1, false) });
}
