// The TAP service's Kubernetes JobStore on the real control plane (issue 13): every async TAP job is a QueryJob.
// The store talks to the apiserver as a ServiceAccount holding only the Role the TAP Deployment gets (QueryJobs in
// its namespace), so the test proves that Role suffices. No operator runs: the test writes each QueryJob's status
// by hand, as the QueryJob controller would, and checks what UWS shows of it — through the store and through the
// TAP app in-process (its /async routes, owner isolation, the signed result URL over the results directory).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../packages/service-kit/src/kube-access.js';
import { KubeClient } from '../../services/tap/src/kube.js';
import {
  CREATED_ANNOTATION,
  DELETED_LABEL,
  KubernetesJobStore,
  OWNER_LABEL,
} from '../../services/tap/src/kubernetes.js';
import { kubectl, kubectlJson, ToolError } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { auth, startKubeTap, tapAccess, type TapHandle, type TapUser } from './support.js';

const s = operatorSuite({ namespace: 'tap', profiles: [] });
const T0 = Date.parse('2026-12-03T10:00:00.000Z');
const clock = { now: T0 };
const PARAMS = {
  lang: 'ADQL',
  query: 'SELECT TOP 5 ra, dec FROM des_sample',
  format: 'csv',
  maxrec: 50,
} as const;

interface QJ {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

let access: KubeAccess;
let store: KubernetesJobStore;
let handle: TapHandle;
let dir: string;
let base: string;

const getQJ = (name: string): Promise<QJ> => kubectlJson<QJ>(['get', 'queryjob', name, '-n', s.ns()]);
async function setStatus(name: string, status: Record<string, unknown>): Promise<void> {
  await kubectl([
    'patch',
    'queryjob',
    name,
    '-n',
    s.ns(),
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}
const exists = async (name: string): Promise<boolean> => {
  try {
    await getQJ(name);
    return true;
  } catch (err) {
    if (err instanceof ToolError && /NotFound/.test(err.message)) return false;
    throw err;
  }
};
const newJob = (owner: string, runId?: string) =>
  store.create({
    owner,
    ...(runId !== undefined && { runId }),
    parameters: PARAMS,
    executionDuration: 120,
    destruction: new Date(T0 + 86_400_000),
  });

beforeAll(async () => {
  access = await tapAccess(s.ns());
  handle = await startKubeTap(s.ns(), 'des', access, { now: () => clock.now });
  dir = handle.dir;
  base = handle.base;
  store = new KubernetesJobStore({
    client: new KubeClient(access),
    namespace: s.ns(),
    catalog: 'des',
    dir: join(dir, 'results'),
    now: () => clock.now,
  });
});

afterAll(async () => {
  await store?.close();
  await handle?.close();
});

describe('KubernetesJobStore', () => {
  it('creates a PENDING QueryJob with the job’s owner, query, format, limits and times; RUN and ABORT patch spec.phase', async () => {
    s.dumpOnFailure();
    clock.now = T0;
    const job = await newJob('alice', 'my-run');
    expect(job).toMatchObject({ owner: 'alice', runId: 'my-run', phase: 'PENDING', parameters: PARAMS });
    expect(job.creationTime.toISOString()).toBe(new Date(T0).toISOString());
    const q = await getQJ(job.id);
    expect(q.spec).toEqual({
      owner: 'alice',
      runId: 'my-run',
      catalogRef: { name: 'des' },
      language: 'ADQL',
      query: PARAMS.query,
      maxRecords: 50,
      output: { format: 'csv', compression: 'none' },
      // /async jobs run as runner Jobs: the CRD's default mode.
      mode: 'async',
      phase: 'PENDING',
      validateOnly: false,
      executionDuration: '120s',
      destruction: new Date(T0 + 86_400_000).toISOString(),
    });
    expect(q.metadata.labels?.[OWNER_LABEL]).toBe('alice');
    expect(q.metadata.annotations?.[CREATED_ANNOTATION]).toBe(new Date(T0).toISOString());

    // Changes while PENDING reach the spec; executionDuration shows what the spec says.
    await store.setExecutionDuration(job.id, 300);
    await store.setParameters(job.id, { ...PARAMS, lang: 'PG-SQL', query: 'SELECT 1', format: 'parquet' });
    const changed = await getQJ(job.id);
    expect(changed.spec).toMatchObject({
      executionDuration: '300s',
      language: 'SQL',
      query: 'SELECT 1',
      output: { format: 'parquet' },
    });
    expect((await store.get(job.id))?.executionDuration).toBe(300);

    // RUN: spec.phase RUN; until the operator acts, UWS shows QUEUED. Parameters are then frozen (409).
    expect((await store.run(job.id)).phase).toBe('QUEUED');
    expect((await getQJ(job.id)).spec['phase']).toBe('RUN');
    await expect(store.setExecutionDuration(job.id, 60)).rejects.toThrow(
      /only while PENDING \(it is QUEUED\)/,
    );
    // ABORT of an active job: spec.phase ABORT; the phase is the operator's to write.
    await store.abort(job.id);
    expect((await getQJ(job.id)).spec['phase']).toBe('ABORT');
    await setStatus(job.id, { phase: 'ABORTED', endTime: '2026-12-03T10:00:05Z' });
    const aborted = await store.get(job.id);
    expect([aborted?.phase, aborted?.endTime?.toISOString()]).toEqual([
      'ABORTED',
      '2026-12-03T10:00:05.000Z',
    ]);
    // RUN after a final phase changes nothing (UWS), and neither does a second ABORT.
    expect((await store.run(job.id)).phase).toBe('ABORTED');
    expect((await store.abort(job.id)).phase).toBe('ABORTED');
  });

  it('maps a status written as the operator writes it: phase, quote, times, results with sha256, overflow, error', async () => {
    s.dumpOnFailure();
    clock.now = T0;
    const job = await newJob('alice');
    await store.run(job.id);
    const sha = 'a'.repeat(64);
    await setStatus(job.id, {
      phase: 'COMPLETED',
      quote: { estimatedRows: 40_000, estimatedBytes: 960_000, cost: 1234 },
      executionDuration: 120,
      maxRecords: 50,
      startTime: '2026-12-03T10:00:01Z',
      endTime: '2026-12-03T10:00:09Z',
      destruction: '2026-12-04T10:00:00Z',
      jobName: `${job.id}-run`,
      rows: 50,
      overflow: true,
      results: [
        { name: 'result.csv', format: 'text/csv', rows: 50, bytes: 1000, sha256: sha },
        { name: 'result.provenance.json', format: 'application/json', bytes: 321, sha256: 'b'.repeat(64) },
      ],
    });
    const got = await store.get(job.id);
    expect(got).toMatchObject({
      phase: 'COMPLETED',
      overflow: true,
      plan: { estimatedRows: 40_000, estimatedBytes: 960_000, cost: 1234 },
      results: [
        { id: 'result', file: 'result.csv', mediaType: 'text/csv', size: 1000, rows: 50, sha256: sha },
        { id: 'provenance', file: 'result.provenance.json', mediaType: 'application/json', size: 321 },
      ],
    });
    // Quote: creation + min(estimate, maxRecords) / 20,000 rows/s = 50 rows → 3 ms.
    expect(got?.quote?.getTime()).toBe(T0 + 3);
    expect(got?.startTime?.toISOString()).toBe('2026-12-03T10:00:01.000Z');
    expect(got?.destruction.toISOString()).toBe('2026-12-04T10:00:00.000Z');
    const q = await getQJ(job.id);
    expect(got?.resultDir).toBe(`${job.id}-${q.metadata.uid}`);
    expect(store.resultPath(got!, got!.results[0]!)).toBe(
      join(dir, 'results', `${job.id}-${q.metadata.uid}`, 'result.csv'),
    );

    const bad = await newJob('alice');
    await setStatus(bad.id, {
      phase: 'ERROR',
      error: { type: 'fatal', code: 'QueryNotSelectOnly', message: 'spec.query: DROP is not a SELECT' },
    });
    expect(await store.get(bad.id)).toMatchObject({
      phase: 'ERROR',
      error: { type: 'fatal', code: 'QueryNotSelectOnly', message: 'spec.query: DROP is not a SELECT' },
      results: [],
    });
  });

  it('lists only the owner’s jobs, oldest first, with PHASE, AFTER and LAST; another owner’s job is unknown', async () => {
    s.dumpOnFailure();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.now = Date.parse('2026-12-03T11:00:00.000Z') + i * 1000;
      ids.push((await newJob('carol', `c${i}`)).id);
    }
    clock.now = Date.parse('2026-12-03T11:00:00.500Z');
    const bobs = await newJob('bob');
    await store.run(ids[1]!);
    await setStatus(ids[2]!, { phase: 'ARCHIVED' });

    const idsOf = (js: readonly { id: string }[]) => js.map((j) => j.id);
    // ARCHIVED only when asked for by PHASE (UWS 1.1).
    expect(idsOf(await store.list('carol', {}))).toEqual([ids[0], ids[1]]);
    expect(idsOf(await store.list('carol', { phases: ['ARCHIVED'] }))).toEqual([ids[2]]);
    expect(idsOf(await store.list('carol', { phases: ['QUEUED', 'PENDING'] }))).toEqual([ids[0], ids[1]]);
    expect(idsOf(await store.list('carol', { phases: ['QUEUED'] }))).toEqual([ids[1]]);
    const after = new Date('2026-12-03T11:00:00.500Z');
    expect(idsOf(await store.list('carol', { after }))).toEqual([ids[1]]);
    expect(idsOf(await store.list('carol', { last: 1 }))).toEqual([ids[1]]);
    expect(idsOf(await store.list('carol', { phases: ['PENDING', 'QUEUED', 'ARCHIVED'], last: 2 }))).toEqual([
      ids[1],
      ids[2],
    ]);
    expect(idsOf(await store.list('bob', {}))).toEqual([bobs.id]);
    expect(await store.get(bobs.id, 'carol')).toBeUndefined();
    expect((await store.get(bobs.id, 'bob'))?.owner).toBe('bob');
    expect(await store.get('no-such-job')).toBeUndefined();
    expect(await store.get('../../secrets')).toBeUndefined();
  });

  it('WAIT returns when the watched QueryJob changes phase, or at its timeout', async () => {
    s.dumpOnFailure();
    const job = await newJob('alice');
    await store.run(job.id);
    const t = Date.now();
    const waiting = store.wait(job.id, undefined, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    await setStatus(job.id, { phase: 'EXECUTING', startTime: '2026-12-03T10:00:01Z' });
    const after = await waiting;
    expect(after?.phase).toBe('EXECUTING');
    expect(Date.now() - t).toBeLessThan(15_000);
    // PHASE=EXECUTING while it executes: blocks until the timeout (1 s), then the job as it is.
    const t2 = Date.now();
    expect((await store.wait(job.id, 'EXECUTING', 1000))?.phase).toBe('EXECUTING');
    expect(Date.now() - t2).toBeGreaterThanOrEqual(900);
    // PHASE=QUEUED while EXECUTING, or a final job: at once.
    expect((await store.wait(job.id, 'QUEUED', 30_000))?.phase).toBe('EXECUTING');
    // Deleted while waited on: undefined.
    const pending = await newJob('alice');
    const gone = store.wait(pending.id, undefined, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    await kubectl(['delete', 'queryjob', pending.id, '-n', s.ns(), '--wait=false']);
    expect(await gone).toBeUndefined();
  });

  it('deletes a job that never ran at once; one that ran is hidden, destroyed by the operator, then removed', async () => {
    s.dumpOnFailure();
    const never = await newJob('alice');
    await store.delete(never.id);
    expect(await exists(never.id)).toBe(false);

    clock.now = Date.parse('2026-12-03T12:00:00.000Z');
    const ran = await newJob('alice');
    await store.run(ran.id);
    await setStatus(ran.id, {
      phase: 'EXECUTING',
      startTime: '2026-12-03T12:00:01Z',
      jobName: `${ran.id}-run`,
    });
    await store.delete(ran.id);
    const q = await getQJ(ran.id);
    expect(q.metadata.labels?.[DELETED_LABEL]).toBe('true');
    expect(q.spec['destruction']).toBe('2026-12-03T12:00:00.000Z');
    expect(await store.get(ran.id)).toBeUndefined();
    expect((await store.list('alice', { phases: ['EXECUTING', 'ARCHIVED'] })).map((j) => j.id)).not.toContain(
      ran.id,
    );
    // Not archived yet: sweep leaves it; archived (as the operator does at destruction): sweep removes it.
    expect(await store.sweep()).toBe(0);
    await setStatus(ran.id, { phase: 'ARCHIVED', results: [] });
    expect(await store.sweep()).toBe(1);
    expect(await exists(ran.id)).toBe(false);
  });
});

describe('the TAP app on the Kubernetes store', () => {
  const post = (url: string, form: Record<string, string>, u: TapUser) =>
    fetch(url, { method: 'POST', body: new URLSearchParams(form), headers: auth(u), redirect: 'manual' });

  it('creates, runs, lists and serves the result file of a QueryJob; bob sees none of it', async () => {
    s.dumpOnFailure();
    clock.now = Date.now();
    const created = await post(
      `${base}/async`,
      { LANG: 'ADQL', QUERY: PARAMS.query, FORMAT: 'csv', MAXREC: '10' },
      'alice',
    );
    expect(created.status).toBe(303);
    const url = created.headers.get('location') ?? '';
    const id = url.split('/').pop() ?? '';
    const q = await getQJ(id);
    expect(q.spec).toMatchObject({ owner: 'alice', query: PARAMS.query, maxRecords: 10, phase: 'PENDING' });

    expect((await post(`${url}/phase`, { PHASE: 'RUN' }, 'alice')).status).toBe(303);
    expect((await getQJ(id)).spec['phase']).toBe('RUN');
    const phase = await fetch(`${url}/phase`, { headers: auth('alice') });
    expect(await phase.text()).toBe('QUEUED');

    // The runner's output as the operator records it, the file on the (here local) results directory.
    const body = 'ra,dec\n1.5,-30.25\n';
    mkdirSync(join(dir, 'results', `${id}-${q.metadata.uid}`), { recursive: true });
    writeFileSync(join(dir, 'results', `${id}-${q.metadata.uid}`, 'result.csv'), body);
    await setStatus(id, {
      phase: 'COMPLETED',
      rows: 1,
      results: [
        {
          name: 'result.csv',
          format: 'text/csv',
          rows: 1,
          bytes: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
        },
      ],
    });
    const doc = await (await fetch(url, { headers: auth('alice') })).text();
    expect(doc).toMatch(/<uws:phase>COMPLETED<\/uws:phase>/);
    expect(doc).toMatch(/<uws:result id="result"[^>]*size="18"/);
    const redirect = await fetch(`${url}/results/result`, { headers: auth('alice'), redirect: 'manual' });
    expect(redirect.status).toBe(303);
    const file = await fetch(redirect.headers.get('location') ?? '');
    expect([file.status, await file.text()]).toEqual([200, body]);

    const list = await (await fetch(`${base}/async`, { headers: auth('alice') })).text();
    expect(list).toContain(`id="${id}"`);
    expect(await (await fetch(`${base}/async`, { headers: auth('bob') })).text()).not.toContain(`id="${id}"`);
    for (const path of ['', '/phase', '/results', '/results/result', '/owner'])
      expect([
        path,
        (await fetch(`${url}${path}`, { headers: auth('bob'), redirect: 'manual' })).status,
      ]).toEqual([path, 404]);
    expect((await post(url, { ACTION: 'DELETE' }, 'bob')).status).toBe(404);
    expect(await exists(id)).toBe(true);
  });
});
