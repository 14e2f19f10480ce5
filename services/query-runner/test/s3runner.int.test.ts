// The runner's command line publishing results to a real S3-compatible server (versitygw) from a real PostgreSQL,
// run as a child process the way a Job's pod runs it: objects read back and their sha256 checked against the
// manifest, a retry giving identical bytes, a kill mid-publish leaving no half object and no manifest, keys only
// from the environment, and `--delete` removing one job's objects and nothing else.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from './support/postgres.js';
import { startS3, type S3Server } from '../../../packages/s3/test/support/s3server.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const ROOT = join(import.meta.dirname, '..', '..', '..');

let db: Postgres;
let s3: S3Server;
let conn: { host: string; port: number; database: string; user: string };
const tmp = mkdtempSync(join(tmpdir(), 'skyport-s3runner-'));
let n = 0;

beforeAll(async () => {
  [db, s3] = await Promise.all([startPostgres(), startS3()]);
  const u = new URL(db.url);
  conn = { host: u.hostname, port: Number(u.port), database: 'postgres', user: u.username };
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`
    CREATE TABLE obj (id int8, ra float8, dec float8, tilename varchar(12));
    INSERT INTO obj SELECT i, i / 1000.0, -50 + i / 10000.0, 'DES' || lpad(i::text, 9, '0')
      FROM generate_series(1, 300000) AS s(i);`);
  await admin.end();
}, 600_000);
afterAll(async () => {
  await Promise.all([db?.stop(), s3?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

function start(
  spec: object,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): {
  child: ChildProcess;
  lines: string[];
} {
  const file = join(tmp, `spec-${n++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--spec', file, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      ...env,
    },
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { child, lines };
}

async function run(
  s: object,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; events: Record<string, unknown>[] }> {
  const { child, lines } = start(s, args, env);
  const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
  return { code, events: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function spec(query: string, prefix: string, output: Record<string, unknown> = {}): object {
  return {
    query,
    catalog: { name: 'test', release: 'T1' },
    connection: conn,
    output: {
      dir: mkdtempSync(join(tmp, 'scratch-')),
      format: 'csv',
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, forcePathStyle: true, prefix },
      ...output,
    },
    executionDurationSeconds: 120,
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function keys(prefix: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for await (const o of s3.client().list(prefix)) m.set(o.key, o.size);
  return m;
}

interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
  rows: number;
}

describe('skyport-query-runner with output.s3', () => {
  const BIG = 'SELECT id, ra, dec, tilename FROM obj ORDER BY id';

  it('publishes every result file and the manifest; the objects hash to the manifest', async () => {
    const prefix = 'results/ns1/qj-a/uid-a/';
    const r = await run(spec(BIG, prefix, { splitMaxBytes: 6 * 1024 * 1024 }));
    expect(r.code).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ event: 'published', bucket: s3.bucket, prefix });
    const c = s3.client();
    const manifest = JSON.parse((await c.getBytes(prefix + 'result.provenance.json')).toString()) as {
      rows: number;
      files: ManifestFile[];
    };
    expect(manifest.rows).toBe(300_000);
    // Split in parts; each part above 5 MiB went up as a multipart upload.
    expect(manifest.files.length).toBeGreaterThan(1);
    expect(manifest.files.some((f) => f.bytes > 8 * 1024 * 1024)).toBe(false);
    for (const f of manifest.files) {
      const body = await c.getBytes(prefix + f.name);
      expect(body.length).toBe(f.bytes);
      expect(sha(body)).toBe(f.sha256);
    }
    const first = (await c.getBytes(prefix + (manifest.files[0]?.name ?? ''), [0, 15])).toString();
    expect(first).toBe('id,ra,dec,tilena');
    expect([...(await keys(prefix)).keys()].sort()).toEqual(
      [...manifest.files.map((f) => prefix + f.name), prefix + 'result.provenance.json'].sort(),
    );
    expect(await c.listMultipart(prefix)).toEqual([]);
  });

  it('a retry publishes identical bytes to the same keys', async () => {
    const q = 'SELECT id, ra FROM obj WHERE id <= 200000 ORDER BY id';
    const prefix = 'results/ns1/qj-b/uid-b/';
    expect((await run(spec(q, prefix, { format: 'parquet' }))).code).toBe(0);
    const c = s3.client();
    const once = sha(await c.getBytes(prefix + 'result.parquet'));
    expect((await run(spec(q, prefix, { format: 'parquet' }))).code).toBe(0);
    expect(sha(await c.getBytes(prefix + 'result.parquet'))).toBe(once);
  });

  it('killed while publishing: no half object, no manifest; a rerun completes and --delete removes it all', async () => {
    const prefix = 'results/ns1/qj-c/uid-c/';
    // One 20 MB file: a multipart upload of three parts, killed as soon as the query finished.
    const s = spec(BIG, prefix);
    const { child, lines } = start(s);
    await new Promise<void>((ok, fail) => {
      const t = setInterval(() => {
        if (lines.some((l) => l.includes('"completed"'))) {
          clearInterval(t);
          child.kill('SIGKILL');
          ok();
        } else if (child.exitCode !== null) {
          clearInterval(t);
          fail(new Error(`runner exited ${child.exitCode} before completing`));
        }
      }, 5);
    });
    await new Promise((ok) => child.once('exit', ok));
    const left = await keys(prefix);
    expect(left.has(prefix + 'result.provenance.json')).toBe(false);
    // Whatever is there is whole: only a completed upload makes an object.
    const local = readFileSync(join((s as { output: { dir: string } }).output.dir, 'result.csv'));
    for (const [, size] of left) expect(size).toBe(local.length);

    const again = await run(spec(BIG, prefix));
    expect(again.code).toBe(0);
    expect(sha(await s3.client().getBytes(prefix + 'result.csv'))).toBe(sha(local));

    await s3.client().put('results/ns1/qj-c/other-uid/keep.txt', Buffer.from('keep'));
    const del = await run(spec(BIG, prefix), ['--delete']);
    expect(del.code).toBe(0);
    expect(del.events.at(-1)).toMatchObject({ event: 'deleted', objects: 2 });
    expect((await keys(prefix)).size).toBe(0);
    expect(await s3.client().listMultipart(prefix)).toEqual([]);
    expect([...(await keys('results/ns1/qj-c/')).keys()]).toEqual(['results/ns1/qj-c/other-uid/keep.txt']);
  });

  it('without keys in the environment it refuses before running the query (invalid spec)', async () => {
    const t0 = Date.now();
    const r = await run(spec(BIG, 'results/ns1/qj-d/u/'), [], { AWS_SECRET_ACCESS_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.events.map((e) => e['event'])).toEqual(['error']);
    expect(String(r.events[0]?.['message'])).toContain('AWS_SECRET_ACCESS_KEY');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('wrong keys: a fatal StorageAccessDenied, nothing in the bucket', async () => {
    const prefix = 'results/ns1/qj-e/u/';
    const r = await run(spec('SELECT id FROM obj WHERE id < 10', prefix), [], {
      AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    });
    expect(r.code).toBe(1);
    expect(r.events.at(-1)).toMatchObject({ event: 'error', type: 'fatal', code: 'StorageAccessDenied' });
    expect((await keys(prefix)).size).toBe(0);
  });
});
