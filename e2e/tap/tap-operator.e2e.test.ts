// TAP async jobs run by the real QueryJob controller (issue 13: every async TAP job is a QueryJob): a TAP process
// in-process on the Kubernetes store, the operator (`--controllers=queryjob`, as the chart's ServiceAccount) and a
// real PostgreSQL with the sample catalog. A job posted to /async is validated and quoted by the operator (quote and
// plan in the UWS job), refused queries end in ERROR with the operator's code, PHASE=RUN creates the runner Job, and
// the runner pod's lifecycle (played as the kubelet would) reaches the client through blocking WAIT: EXECUTING, then
// COMPLETED with the runner's results.
import { describe, expect, it } from 'vitest';
import { eventually } from '../cluster/index.js';
import {
  completedMessage,
  getQueryJob,
  jobsOf,
  nthPod,
  podExited,
  podRunning,
  queryJobSuite,
} from '../queryjob/support.js';
import { auth, startKubeTap, tapAccess, type TapHandle, type TapUser } from './support.js';

const s = queryJobSuite('tapqj');
let t: TapHandle | undefined;

const post = (url: string, form: Record<string, string>, u: TapUser = 'alice') =>
  fetch(url, { method: 'POST', body: new URLSearchParams(form), headers: auth(u), redirect: 'manual' });
const getText = async (url: string, u: TapUser = 'alice') => (await fetch(url, { headers: auth(u) })).text();
const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<uws:${name}>([^<]*)</uws:${name}>`).exec(xml)?.[1];

async function create(form: Record<string, string>): Promise<{ url: string; id: string }> {
  if (t === undefined) throw new Error('no TAP');
  const res = await post(`${t.base}/async`, form);
  expect(res.status, await res.clone().text()).toBe(303);
  const url = res.headers.get('location') ?? '';
  return { url, id: url.split('/').pop() ?? '' };
}

describe('TAP on the QueryJob controller', () => {
  it('validates and quotes, refuses DML, runs: WAIT follows QUEUED → EXECUTING → COMPLETED with results', async () => {
    s.dumpOnFailure();
    const ns = s.ns();
    const op = await s.start({ args: ['--controllers=queryjob'] });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 180_000,
      intervalMs: 500,
      description: 'the operator is ready',
    });
    t = await startKubeTap(ns, s.catalog(), await tapAccess(ns));
    try {
      // Quoted by the operator's EXPLAIN: the quote and the plan appear in the UWS job, still PENDING.
      const good = await create({
        LANG: 'ADQL',
        QUERY: 'SELECT TOP 10 coadd_object_id, ra, dec FROM des_sample WHERE dec > -30',
        FORMAT: 'csv',
        MAXREC: '10',
      });
      const quoted = await eventually(
        async () => {
          const xml = await getText(good.url);
          if (!/<plan estimatedRows="\d+"/.test(xml)) throw new Error(`no plan yet: ${xml}`);
          return xml;
        },
        { timeoutMs: 60_000, description: 'the operator quoted the job' },
      );
      expect(tag(quoted, 'phase')).toBe('PENDING');
      expect(quoted).not.toContain('<uws:quote xsi:nil="true"/>');

      // Refused by the operator's validator: ERROR with its code, /error as a DALI VOTable.
      const bad = await create({
        LANG: 'PG-SQL',
        QUERY: "UPDATE des_sample SET tilename = 'x'",
        PHASE: 'RUN',
      });
      const failed = await eventually(
        async () => {
          const xml = await getText(`${bad.url}?WAIT=5`);
          if (tag(xml, 'phase') !== 'ERROR') throw new Error(`phase ${tag(xml, 'phase') ?? '-'}`);
          return xml;
        },
        { timeoutMs: 60_000, description: 'the DML job in ERROR' },
      );
      expect(failed).toMatch(/<uws:errorSummary type="fatal"[^>]*><uws:message>QueryNotSelectOnly: /);
      expect(await getText(`${bad.url}/error`)).toContain('QueryNotSelectOnly');
      expect(await jobsOf(ns, (await getQueryJob(ns, bad.id)).metadata.uid)).toEqual([]);

      // RUN: the operator creates the runner Job; the pod's lifecycle reaches WAIT.
      expect((await post(`${good.url}/phase`, { PHASE: 'RUN' })).status).toBe(303);
      const qj = await eventually(
        async () => {
          const q = await getQueryJob(ns, good.id);
          if (q.status?.jobName === undefined) throw new Error('no runner Job yet');
          return q;
        },
        { timeoutMs: 60_000, description: 'the runner Job created' },
      );
      expect(qj.spec).toMatchObject({ owner: 'alice', language: 'ADQL', maxRecords: 10, phase: 'RUN' });
      expect(tag(await getText(good.url), 'phase')).toBe('QUEUED');
      const pod = await nthPod(ns, qj.metadata.uid, 1);
      const waiting = getText(`${good.url}?WAIT=30&PHASE=QUEUED`);
      await podRunning(ns, pod.metadata.name);
      expect(tag(await waiting, 'phase')).toBe('EXECUTING');

      // Between the pod's exit and the Job's Complete condition the operator shows QUEUED (no running pod,
      // outcome.ts), so a client WAITs until a final phase, as pyvo's wait() does.
      await podExited(ns, pod.metadata.name, 0, completedMessage(10));
      let finished = '';
      for (let i = 0; i < 5 && !['COMPLETED', 'ERROR'].includes(tag(finished, 'phase') ?? ''); i++)
        finished = await getText(`${good.url}?WAIT=30`);
      expect(tag(finished, 'phase')).toBe('COMPLETED');
      expect(finished).toMatch(/<uws:result id="result"[^>]*size="1234" mime-type="text\/csv"\/>/);
      expect(finished).toMatch(/<uws:result id="provenance"[^>]*size="800"/);
      expect(finished).toContain('<rows>10</rows>');
      // bob sees none of alice's jobs.
      expect((await fetch(good.url, { headers: auth('bob') })).status).toBe(404);
      expect(await getText(`${t.base}/async`, 'bob')).not.toContain(good.id);
    } finally {
      await t.close();
    }
  });
});
