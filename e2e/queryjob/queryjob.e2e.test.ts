// QueryJob on the real control plane with a real PostgreSQL (issue 13): refusals and the EXPLAIN quote before any
// Job exists, the runner Job's spec, the Job's outcome (kube-controller-manager's Job controller, pods' status set
// as the kubelet would) → UWS phase, ABORT cancelling the named backend, destruction → ARCHIVED, malformed specs
// refused by the apiserver, and an operator restart mid-job leaving one Job.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { eventually, kubectl, ToolError } from '../cluster/index.js';
import {
  applyObject,
  completedMessage,
  getQueryJob,
  jobsOf,
  nthPod,
  phaseOf,
  podExited,
  podRunning,
  queryJob,
  queryJobSuite,
  READER,
  SAMPLE_ROWS,
} from './support.js';

const s = queryJobSuite('qj');
const { ns, catalog } = s;
const GOOD = 'SELECT coadd_object_id, ra, dec FROM des_sample WHERE dec > -30 ORDER BY coadd_object_id';

async function submit(name: string, spec: Record<string, unknown>): Promise<void> {
  await applyObject(queryJob(ns(), name, catalog(), spec));
}

/** Starts an operator and waits until it serves /readyz (tsx start-up takes a minute on a loaded machine). */
async function startOperator() {
  const op = await s.start({ args: ['--controllers=queryjob'] });
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 180_000,
    intervalMs: 500,
    description: 'the operator is ready',
  });
  return op;
}

describe('QueryJob', () => {
  it('refuses DDL, DML, two statements, pg_sleep and an over-limit quote before any Job', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    const cases: [string, string, string][] = [
      ['ddl', 'DROP TABLE des_sample', 'QueryNotSelectOnly'],
      ['dml', "UPDATE des_sample SET tilename = 'x'", 'QueryNotSelectOnly'],
      ['multi', 'SELECT 1; SELECT 2', 'QueryNotSingleStatement'],
      ['sleep', 'SELECT pg_sleep(3600)', 'QueryFunctionDenied'],
      ['cross', 'SELECT a.ra FROM des_sample a, des_sample b', 'QuoteOverLimit'],
      ['missing', 'SELECT * FROM no_such_table', 'UndefinedTable'],
    ];
    for (const [name, query] of cases) await submit(name, { query, phase: 'RUN' });
    for (const [name, , code] of cases) {
      const q = await phaseOf(ns(), name, 'ERROR');
      expect(q.status?.error, name).toMatchObject({ type: 'fatal', code });
      expect(q.status?.error?.message).toMatch(/^spec\.query: /);
      expect(q.status?.conditions?.find((c) => c.type === 'Validated')).toMatchObject({
        status: 'False',
        reason: code,
      });
      expect(await jobsOf(ns(), q.metadata.uid), `${name}: no Job`).toEqual([]);
    }
    const cross = await getQueryJob(ns(), 'cross');
    expect(cross.status?.error?.message).toMatch(/maxRows of 1,000,000/);
  });

  it('quotes a PENDING job (no Job), then runs it: the Job spec, QUEUED → EXECUTING → COMPLETED with results', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await submit('gold', {
      query: GOOD,
      executionDuration: '5m',
      maxRecords: 100,
      output: { format: 'fits' },
    });
    const pending = await eventually(async () => {
      const q = await getQueryJob(ns(), 'gold');
      if (q.status?.quote === undefined) throw new Error('no quote yet');
      return q;
    });
    expect(pending.status?.phase).toBe('PENDING');
    const est = pending.status?.quote?.estimatedRows ?? 0;
    expect(est).toBeGreaterThan(SAMPLE_ROWS * 0.2);
    expect(est).toBeLessThan(SAMPLE_ROWS * 1.01);
    expect(pending.status?.quote?.cost).toBeGreaterThan(0);
    expect(pending.status).toMatchObject({ executionDuration: 300, maxRecords: 100 });
    expect(await jobsOf(ns(), pending.metadata.uid)).toEqual([]);

    await kubectl([
      'patch',
      'queryjob',
      'gold',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      '{"spec":{"phase":"RUN"}}',
    ]);
    const queued = await phaseOf(ns(), 'gold', 'QUEUED');
    expect(queued.status?.jobName).toBe('gold-run');
    const [job, ...more] = await jobsOf(ns(), queued.metadata.uid);
    expect(more).toEqual([]);
    expect(job?.spec.activeDeadlineSeconds).toBe(360);
    expect(job?.spec.backoffLimit).toBe(1);
    const container = job?.spec.template.spec.containers[0];
    expect(container?.image).toBe('localhost/skyport/query-runner:dev');
    const runnerSpec = JSON.parse(
      container?.env?.find((e) => e.name === 'SKYPORT_JOB_SPEC')?.value ?? '{}',
    ) as Record<string, unknown>;
    expect(runnerSpec).toMatchObject({
      query: GOOD,
      maxRecords: 100,
      executionDurationSeconds: 300,
      output: { format: 'fits', dir: `/results/gold-${queued.metadata.uid}` },
      connection: { host: '127.0.0.1', port: s.db()?.port, database: s.database() },
    });
    expect(JSON.stringify(job)).not.toContain(READER.password);

    const pod = await nthPod(ns(), queued.metadata.uid, 1);
    await podRunning(ns(), pod.metadata.name);
    await phaseOf(ns(), 'gold', 'EXECUTING');
    await podExited(ns(), pod.metadata.name, 0, completedMessage(100));
    const done = await phaseOf(ns(), 'gold', 'COMPLETED');
    expect(done.status).toMatchObject({ rows: 100, overflow: false, attempts: 1 });
    expect(done.status?.results?.map((r) => r.name)).toEqual(['result.csv', 'result.provenance.json']);
    expect(done.status?.endTime).toBeDefined();
  });

  it("retries a transient failure (exit 75) once; a second one is ERROR with the runner's error", async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await submit('flaky', { query: GOOD, phase: 'RUN' });
    const q = await phaseOf(ns(), 'flaky', 'QUEUED');
    const transient = (m: string) =>
      JSON.stringify({ error: { type: 'transient', code: 'ConnectionLost', message: m } });
    const first = await nthPod(ns(), q.metadata.uid, 1);
    await podExited(ns(), first.metadata.name, 75, transient('first'));
    const second = await nthPod(ns(), q.metadata.uid, 2);
    await podExited(ns(), second.metadata.name, 75, transient('second'));
    const err = await phaseOf(ns(), 'flaky', 'ERROR');
    expect(err.status?.error).toEqual({ type: 'transient', code: 'ConnectionLost', message: 'second' });
    expect(err.status?.attempts).toBe(2);

    await submit('fatal', { query: GOOD, phase: 'RUN' });
    const f = await phaseOf(ns(), 'fatal', 'QUEUED');
    const pod = await nthPod(ns(), f.metadata.uid, 1);
    await podExited(
      ns(),
      pod.metadata.name,
      1,
      JSON.stringify({
        error: { type: 'fatal', code: 'PermissionDenied', message: 'permission denied for table' },
      }),
    );
    const fatal = await phaseOf(ns(), 'fatal', 'ERROR');
    expect(fatal.status?.error?.code).toBe('PermissionDenied');
    expect(fatal.status?.attempts).toBe(1);
  });

  it('ABORT deletes the Job and cancels the backend named for the job; it cannot be undone', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await submit('abort', { query: GOOD, phase: 'RUN' });
    const q = await phaseOf(ns(), 'abort', 'QUEUED');
    const pod = await nthPod(ns(), q.metadata.uid, 1);
    await podRunning(ns(), pod.metadata.name);
    await phaseOf(ns(), 'abort', 'EXECUTING');
    // The runner's backend, as the runner names it: a query that would run for an hour.
    const url = (s.db()?.url ?? '')
      .replace(/\/\/[^@]+@/, `//${READER.user}@`)
      .replace(/\/[^/]+$/, `/${s.database()}`);
    const backend = new pg.Client({
      connectionString: url,
      application_name: `skyport-qj-${q.metadata.uid}`,
    });
    await backend.connect();
    backend.on('error', () => undefined);
    const running = backend.query('SELECT pg_sleep(3600)').then(
      () => 'finished',
      (e: { code?: string }) => e.code ?? 'error',
    );
    try {
      await kubectl([
        'patch',
        'queryjob',
        'abort',
        '-n',
        ns(),
        '--type=merge',
        '-p',
        '{"spec":{"phase":"ABORT"}}',
      ]);
      const aborted = await phaseOf(ns(), 'abort', 'ABORTED');
      expect(aborted.status?.endTime).toBeDefined();
      expect(await running).toBe('57014'); // query_canceled
      await eventually(async () => (await jobsOf(ns(), q.metadata.uid)).length === 0, {
        description: 'the runner Job is deleted',
      });
    } finally {
      await backend.end().catch(() => undefined);
    }
    const undo = await kubectl([
      'patch',
      'queryjob',
      'abort',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      '{"spec":{"phase":"RUN"}}',
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(undo).toBeInstanceOf(ToolError);
    expect(String((undo as Error).message)).toMatch(/an aborted job cannot be started again/);
  });

  it('at destruction deletes the results with a cleanup Job and keeps the record ARCHIVED', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await submit('expire', { query: GOOD, phase: 'RUN' });
    const q = await phaseOf(ns(), 'expire', 'QUEUED');
    const pod = await nthPod(ns(), q.metadata.uid, 1);
    await podExited(ns(), pod.metadata.name, 0, completedMessage(7));
    await phaseOf(ns(), 'expire', 'COMPLETED');
    const soon = new Date(Date.now() + 3000).toISOString().replace(/\.\d+Z$/, 'Z');
    await kubectl([
      'patch',
      'queryjob',
      'expire',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { destruction: soon } }),
    ]);
    const cleanup = await nthPod(ns(), q.metadata.uid, 1, 'cleanup');
    const jobs = await jobsOf(ns(), q.metadata.uid);
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(['expire-cleanup', 'expire-run']);
    const rm = jobs.find((j) => j.metadata.name === 'expire-cleanup')?.spec.template.spec.containers[0];
    expect(rm).toMatchObject({ command: ['rm', '-rf', '--', `/results/expire-${q.metadata.uid}`] });
    expect((await getQueryJob(ns(), 'expire')).status?.phase).toBe('COMPLETED');
    await podExited(ns(), cleanup.metadata.name, 0, '', 'cleanup');
    const archived = await phaseOf(ns(), 'expire', 'ARCHIVED');
    expect(archived.status?.results).toBeUndefined();
    expect(archived.status?.rows).toBe(7);
    await eventually(async () => (await jobsOf(ns(), q.metadata.uid)).length === 0, {
      description: 'both Jobs deleted',
    });
  });

  it('an operator restart mid-job leaves one Job, and the job completes once', async () => {
    s.dumpOnFailure();
    const first = s.started.at(-1) ?? (await startOperator());
    await submit('restart', { query: GOOD, phase: 'RUN' });
    const q = await phaseOf(ns(), 'restart', 'QUEUED');
    const [job] = await jobsOf(ns(), q.metadata.uid);
    await first.stop('SIGKILL');
    await startOperator();
    const pod = await nthPod(ns(), q.metadata.uid, 1);
    await podExited(ns(), pod.metadata.name, 0, completedMessage(3));
    await phaseOf(ns(), 'restart', 'COMPLETED');
    const jobs = await jobsOf(ns(), q.metadata.uid);
    expect(jobs.map((j) => j.metadata.uid)).toEqual([job?.metadata.uid]);
  });

  it('checks a PENDING job refused for its query again once the query is fixed', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await submit('fixme', { query: 'SELECT pg_sleep(10)' });
    await phaseOf(ns(), 'fixme', 'ERROR');
    await kubectl([
      'patch',
      'queryjob',
      'fixme',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { query: GOOD } }),
    ]);
    const fixed = await phaseOf(ns(), 'fixme', 'PENDING');
    expect(fixed.status?.error).toBeUndefined();
    expect(fixed.status?.quote?.estimatedRows).toBeGreaterThan(0);
  });

  it('the apiserver refuses malformed specs, naming the field', async () => {
    const refused = async (spec: Record<string, unknown>): Promise<string> => {
      const err = await applyObject(queryJob(ns(), 'bad', catalog(), spec)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(spec)).toBeInstanceOf(ToolError);
      return (err as Error).message;
    };
    expect(await refused({ query: GOOD, output: { format: 'xlsx' } })).toMatch(/spec\.output\.format/);
    expect(await refused({ query: GOOD, output: { format: 'parquet', compression: 'gzip' } })).toMatch(
      /spec\.output\.compression.*gzip compression is not available for parquet/,
    );
    expect(await refused({ query: GOOD, phase: 'SUSPEND' })).toMatch(/spec\.phase/);
    expect(await refused({ query: GOOD, executionDuration: '2 days' })).toMatch(/spec\.executionDuration/);
    expect(await refused({ query: '' })).toMatch(/spec\.query/);
    expect(await refused({ query: GOOD, maxRecords: 0 })).toMatch(/spec\.maxRecords/);
  });
});
