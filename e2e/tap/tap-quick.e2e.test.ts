// Quick QueryJobs (spec.mode quick, docs/adr/0009-catalog-tap-service.md): the operator's QueryJob controller
// validates and quotes them and hands them to the catalog's TAP service, which runs them in its process — no Job, no
// Pod — against a real PostgreSQL with the sample catalog, writing results, manifest and sha256 where a runner Job
// writes them, with a truthful overflow flag and executionDuration as statement_timeout. Refusals (no TAP, outside
// its namespace, too big), ABORT, destruction (files gone, results dropped), the end notification and the
// immutable mode.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, uniqueName } from '../cluster/index.js';
import {
  applyObject,
  getQueryJob,
  jobsOf,
  phaseOf,
  podsOf,
  queryJob,
  READER,
  queryJobSuite,
} from '../queryjob/support.js';
import { startReceiver, type Receiver } from '../services/receiver.js';
import { startKubeTap, tapAccess, type TapHandle } from './support.js';

const s = queryJobSuite('tapquick');
const quickCatalog = uniqueName('tapquick-tap');
const secrets = mkdtempSync(join(tmpdir(), 'skyport-tapquick-'));
let t: TapHandle | undefined;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await t?.close();
  await receiver.close();
  await kubectl(['delete', 'catalog', quickCatalog, '--ignore-not-found', '--wait=false']).catch(
    () => undefined,
  );
  rmSync(secrets, { recursive: true, force: true });
});

/** The Catalog of the suite's database with a TAP service in `ns` and small quick limits. */
async function applyQuickCatalog(ns: string): Promise<void> {
  const db = s.db();
  if (db === undefined) throw new Error('no database');
  await applyObject({
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'Catalog',
    metadata: { name: quickCatalog },
    spec: {
      release: 'Y6A2',
      database: {
        host: '127.0.0.1',
        port: db.port,
        database: s.database(),
        credentials: { secretName: 'des-reader' },
      },
      results: { claimName: 'query-results' },
      limits: { maxEstimatedRows: 1_000_000, maxExecutionDuration: '1h' },
      // Only the queryjob controller runs here: no TAP Deployment is made, the test's TAP process plays it.
      tap: { namespace: ns, secretName: 'tap', quick: { maxRecords: 500, maxExecutionDuration: '10s' } },
    },
  });
}

async function dbRows(sql: string): Promise<unknown[][]> {
  const db = s.db();
  if (db === undefined) throw new Error('no database');
  const c = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${s.database()}`) });
  await c.connect();
  try {
    return (await c.query<unknown[]>({ text: sql, rowMode: 'array' })).rows;
  } finally {
    await c.end();
  }
}

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('quick QueryJobs run by the TAP service', () => {
  it('runs in the TAP process with no pod: results, manifest, sha256 and a truthful overflow flag', async () => {
    s.dumpOnFailure();
    const ns = s.ns();
    await applyQuickCatalog(ns);
    const db = s.db();
    if (db === undefined) throw new Error('no database');
    writeFileSync(join(secrets, 'password'), `${READER.password}\n`);
    const op = await s.start({
      args: ['--controllers=queryjob'],
      env: { SKYPORT_QUERYJOB_NOTIFY_ALLOWED_HOSTS: '127.0.0.1' },
    });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 180_000,
      intervalMs: 500,
      description: 'the operator is ready',
    });
    t = await startKubeTap(ns, quickCatalog, await tapAccess(ns), {
      env: {
        PGHOST: '127.0.0.1',
        PGPORT: String(db.port),
        PGDATABASE: s.database(),
        PGUSER: READER.user,
        PGPASSWORD_FILE: join(secrets, 'password'),
        TAP_CATALOG_RELEASE: 'Y6A2',
      },
    });
    const where = 'dec BETWEEN -20 AND -10';
    const [[count]] = (await dbRows(`SELECT count(*)::int FROM des_sample WHERE ${where}`)) as [[number]];
    expect(count).toBeGreaterThan(20);
    expect(count).toBeLessThan(500);

    // Cut at maxRecords: 7 rows and overflow, the VOTable's QUERY_STATUS OVERFLOW.
    const cut = `SELECT coadd_object_id, ra, dec FROM des_sample WHERE ${where} ORDER BY coadd_object_id`;
    await applyObject(
      queryJob(ns, 'quick-cut', quickCatalog, {
        mode: 'quick',
        query: cut,
        maxRecords: 7,
        output: { format: 'votable' },
        phase: 'RUN',
      }),
    );
    // Whole: every row, no overflow (the LIMIT maxRecords + 1 row did not arrive).
    await applyObject(
      queryJob(ns, 'quick-all', quickCatalog, {
        mode: 'quick',
        language: 'ADQL',
        query: `SELECT coadd_object_id, ra, dec FROM des_sample WHERE ${where}`,
        output: { format: 'csv' },
        phase: 'RUN',
        // The TAP writes the end phase; the operator, woken by it, announces it.
        notify: { webhook: { url: `${receiver.base}/quick` } },
      }),
    );
    const a = await phaseOf(ns, 'quick-cut', 'COMPLETED', 60_000);
    const b = await phaseOf(ns, 'quick-all', 'COMPLETED', 60_000);
    expect(a.status).toMatchObject({ rows: 7, overflow: true, maxRecords: 7, executionDuration: 10 });
    expect(b.status).toMatchObject({ rows: count, overflow: false, maxRecords: 500 });
    expect(a.status?.startTime).toBeDefined();
    expect(a.status?.endTime).toBeDefined();

    for (const q of [a, b]) {
      const dir = join(t.dir, 'results', `${q.metadata.name}-${q.metadata.uid}`);
      const files = q.status?.results ?? [];
      expect(files.map((f) => f.name)).toEqual([
        q === a ? 'result.vot' : 'result.csv',
        'result.provenance.json',
      ]);
      for (const f of files) {
        expect(sha256(join(dir, f.name)), f.name).toBe(f.sha256);
        expect(readFileSync(join(dir, f.name)).length).toBe(f.bytes);
      }
      // No runner Job, no pod: the TAP process ran it.
      expect(await jobsOf(ns, q.metadata.uid)).toEqual([]);
      expect(await podsOf(ns, q.metadata.uid)).toEqual([]);
    }
    const dirA = join(t.dir, 'results', `quick-cut-${a.metadata.uid}`);
    const xml = readFileSync(join(dirA, 'result.vot'), 'utf8');
    expect(xml.match(/<TR>/g)?.length).toBe(7);
    expect(xml).toMatch(/<INFO name="QUERY_STATUS" value="OVERFLOW"/);
    const ids = (await dbRows(`${cut} LIMIT 7`)).map((r) => String(r[0]));
    for (const id of ids) expect(xml).toContain(`<TD>${id}</TD>`);
    const manifest = JSON.parse(readFileSync(join(dirA, 'result.provenance.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({ rows: 7, overflow: true, maxRecords: 7, catalog: { release: 'Y6A2' } });
    expect(String(manifest['query'])).toMatch(/LIMIT 8$/);
    const csv = readFileSync(join(t.dir, 'results', `quick-all-${b.metadata.uid}`, 'result.csv'), 'utf8');
    expect(csv.trim().split('\n').length).toBe(count + 1);
    const sent = await eventually(
      () =>
        Promise.resolve().then(() => {
          const got = receiver.to('/quick');
          if (got.length === 0) throw new Error('no notification yet');
          return got;
        }),
      { timeoutMs: 30_000, description: 'the end of quick-all announced' },
    );
    expect(sent.length).toBe(1);
    expect(JSON.parse(sent[0]?.body ?? '{}')).toMatchObject({
      name: 'quick-all',
      phase: 'COMPLETED',
      result: { summary: { rows: count, overflow: false } },
    });

    // Destruction: the TAP deletes the files it wrote, the operator archives, the results leave the status.
    await kubectl([
      'patch',
      'queryjob',
      'quick-cut',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { destruction: new Date(Date.now() - 1000).toISOString() } }),
    ]);
    await eventually(
      async () => {
        const q = await getQueryJob(ns, 'quick-cut');
        if (q.status?.phase !== 'ARCHIVED' || q.status.results !== undefined || existsSync(dirA))
          throw new Error(`not cleaned yet: ${JSON.stringify(q.status)} files ${existsSync(dirA)}`);
      },
      { timeoutMs: 60_000, description: 'quick-cut archived, its files gone' },
    );
  });

  it('enforces executionDuration as statement_timeout and stops on ABORT', async () => {
    const ns = s.ns();
    // 2,000³ rows: minutes of work, stopped at 2 s by statement_timeout (QueryCanceled) or runJob's own deadline.
    const heavy =
      'SELECT count(*) FROM des_sample a, des_sample b, des_sample c WHERE a.ra + b.ra + c.ra < 0';
    await applyObject(
      queryJob(ns, 'quick-slow', quickCatalog, {
        mode: 'quick',
        query: heavy,
        executionDuration: '2s',
        phase: 'RUN',
      }),
    );
    const slow = await phaseOf(ns, 'quick-slow', 'ERROR', 60_000);
    expect(slow.status?.error?.code).toMatch(/^(ExecutionDurationExceeded|QueryCanceled)$/);
    expect(slow.status?.error?.message).toMatch(/statement timeout|executionDuration/);

    await applyObject(
      queryJob(ns, 'quick-abort', quickCatalog, { mode: 'quick', query: heavy, phase: 'RUN' }),
    );
    const running = await phaseOf(ns, 'quick-abort', 'EXECUTING', 60_000);
    const app = `skyport-qj-${running.metadata.uid}`;
    await eventually(
      async () => {
        const r = await dbRows(
          `SELECT count(*)::int FROM pg_stat_activity WHERE application_name = '${app}'`,
        );
        if (r[0]?.[0] !== 1) throw new Error('no backend yet');
      },
      { timeoutMs: 30_000, description: 'the quick job has a backend' },
    );
    await kubectl([
      'patch',
      'queryjob',
      'quick-abort',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"phase":"ABORT"}}',
    ]);
    await phaseOf(ns, 'quick-abort', 'ABORTED', 30_000);
    await eventually(
      async () => {
        const r = await dbRows(
          `SELECT count(*)::int FROM pg_stat_activity WHERE application_name = '${app}' AND state = 'active'`,
        );
        if (r[0]?.[0] !== 0) throw new Error('the backend still runs');
      },
      { timeoutMs: 15_000, description: 'the backend cancelled' },
    );
    // The TAP leaves the operator's ABORTED alone.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getQueryJob(ns, 'quick-abort')).status?.phase).toBe('ABORTED');
  });

  it('refuses a quick job without a TAP service, outside its namespace or too big; mode is immutable', async () => {
    const ns = s.ns();
    await applyObject(
      queryJob(ns, 'quick-notap', s.catalog(), {
        mode: 'quick',
        query: 'SELECT ra FROM des_sample',
        phase: 'RUN',
      }),
    );
    await applyObject(
      queryJob(ns, 'quick-big', quickCatalog, {
        mode: 'quick',
        query: 'SELECT ra FROM des_sample',
        maxRecords: 501,
        phase: 'RUN',
      }),
    );
    const notap = await phaseOf(ns, 'quick-notap', 'ERROR', 60_000);
    expect(notap.status?.error).toMatchObject({ type: 'fatal', code: 'QuickNeedsTap' });
    expect(notap.status?.error?.message).toContain(`catalog ${s.catalog()} has none (spec.tap unset)`);
    const big = await phaseOf(ns, 'quick-big', 'ERROR', 60_000);
    expect(big.status?.error).toMatchObject({ code: 'QuickJobTooBig' });
    expect(big.status?.error?.message).toContain('spec.maxRecords: 501 is over');
    for (const n of ['quick-notap', 'quick-big']) {
      const q = await getQueryJob(ns, n);
      expect(await jobsOf(ns, q.metadata.uid)).toEqual([]);
      expect(q.status?.startTime).toBeUndefined();
    }
    // Another namespace than the TAP's: its results claim is not the one the TAP process writes.
    const other = `${ns}-x`;
    await kubectl(['create', 'namespace', other]);
    try {
      await applyObject(
        queryJob(other, 'quick-elsewhere', quickCatalog, {
          mode: 'quick',
          query: 'SELECT ra FROM des_sample',
          phase: 'RUN',
        }),
      );
      const elsewhere = await phaseOf(other, 'quick-elsewhere', 'ERROR', 60_000);
      expect(elsewhere.status?.error?.code).toBe('QuickOutsideTapNamespace');
    } finally {
      await kubectl(['delete', 'namespace', other, '--wait=false']).catch(() => undefined);
    }
    const patched = await kubectl([
      'patch',
      'queryjob',
      'quick-big',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"mode":"async"}}',
    ]).then(
      () => 'accepted',
      (err: unknown) => String(err),
    );
    expect(patched).toContain('mode is immutable');
  });
});
