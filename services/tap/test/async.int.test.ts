// /async (UWS 1.1) against real PostgreSQL: create (303), RUN, blocking WAIT, results through signed URLs
// (expiry on a fake clock), the job list filters, executionDuration enforced with the backend gone, ABORT,
// destruction to ARCHIVED, deletion, and one user never reaching another's jobs or results.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE, get, postForm, startFixture, type Fixture } from './support/fixture.js';

let f: Fixture;
let db: pg.Client;

beforeAll(async () => {
  f = await startFixture({ rows: 2000, env: { TAP_MAX_CONCURRENT_JOBS_PER_USER: '1' } });
  db = new pg.Client({ connectionString: f.dbUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await f?.close();
});

const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<uws:${name}>([^<]*)</uws:${name}>`).exec(xml)?.[1];

/** A cross join that streams for minutes: 2,000³ rows. */
const ENDLESS = `SELECT a.coadd_object_id FROM ${TABLE} a, ${TABLE} b, ${TABLE} c`;
/** The same join keeping one row in 100,000: rows trickle out for minutes, so no MAXREC is reached in seconds. */
const TRICKLE = `${ENDLESS} WHERE (a.coadd_object_id + b.coadd_object_id + c.coadd_object_id) % 100000 = 0`;

async function create(form: Record<string, string>, user: 'alice' | 'bob' = 'alice'): Promise<string> {
  const res = await postForm(`${f.base}/async`, form, user);
  expect(res.status, await res.clone().text()).toBe(303);
  const loc = res.headers.get('location') ?? '';
  expect(loc).toMatch(new RegExp(`^${f.base}/async/[0-9a-f]{24}$`));
  return loc;
}

async function waitFor(job: string, user: 'alice' | 'bob' = 'alice'): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const xml = await (await get(`${job}?WAIT=30`, user)).text();
    const phase = tag(xml, 'phase');
    if (phase !== 'QUEUED' && phase !== 'EXECUTING' && phase !== 'PENDING') return xml;
  }
  throw new Error(`${job} did not finish`);
}

/** Backends of the runner; with `running`, only those whose query contains it (the runner also reads column
 * comments on a short second connection while its query runs). */
async function runnerBackends(running?: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'skyport-query-runner'` +
      (running === undefined ? '' : ` AND strpos(query, $1) > 0`),
    running === undefined ? [] : [running],
  );
  return r.rows[0]?.n ?? -1;
}

describe('a job from creation to its result', () => {
  it('PENDING with its parameters, quote and owner; RUN; WAIT; a signed result equal to the database', async () => {
    const query = `SELECT TOP 500 coadd_object_id, ra, dec FROM ${TABLE} WHERE dec < -20 ORDER BY coadd_object_id`;
    const job = await create({ LANG: 'ADQL', QUERY: query, FORMAT: 'csv', RUNID: 'paper-1' });
    const pending = await (await get(job, 'alice')).text();
    expect(tag(pending, 'phase')).toBe('PENDING');
    expect(tag(pending, 'runId')).toBe('paper-1');
    expect(tag(pending, 'ownerId')).toBe('alice');
    expect(tag(pending, 'creationTime')).toBe('2026-12-02T12:00:00.000Z');
    expect(tag(pending, 'destruction')).toBe('2026-12-09T12:00:00.000Z');
    expect(tag(pending, 'executionDuration')).toBe('600');
    expect(pending).toMatch(/<uws:parameter id="query">SELECT TOP 500/);
    expect(pending).toMatch(/<plan estimatedRows="\d+"/);
    expect(await (await get(`${job}/quote`, 'alice')).text()).toMatch(/^2026-12-02T12:00:\d\d\.\d{3}Z$/);
    expect(await (await get(`${job}/owner`, 'alice')).text()).toBe('alice');
    expect(await (await get(`${job}/phase`, 'alice')).text()).toBe('PENDING');
    // A WAIT on a PENDING job returns when the phase changes or the time is up.
    const t0 = Date.now();
    expect(tag(await (await get(`${job}?WAIT=1`, 'alice')).text(), 'phase')).toBe('PENDING');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);

    const run = await postForm(`${job}/phase`, { PHASE: 'RUN' }, 'alice');
    expect([run.status, run.headers.get('location')]).toEqual([303, job]);
    const done = await waitFor(job);
    expect(tag(done, 'phase')).toBe('COMPLETED');
    expect(done).toContain('<overflow>false</overflow><rows>500</rows>');
    expect(done).toMatch(
      new RegExp(
        `<uws:result id="result" xlink:type="simple" xlink:href="${job}/results/result" size="\\d+" mime-type="text/csv; header=present"/>`,
      ),
    );

    const redirect = await get(`${job}/results/result`, 'alice');
    expect(redirect.status).toBe(303);
    const signed = redirect.headers.get('location') ?? '';
    expect(signed).toMatch(/\/files\/[0-9a-f]{24}\/result\.csv\?expires=\d+&sig=[0-9a-f]{64}$/);
    const body = await (await fetch(signed)).text(); // no token: the signature is the credential
    const want = await db.query<{ id: string; ra: number; dec: number }>(
      `SELECT coadd_object_id::text AS id, ra, dec FROM ${TABLE} WHERE dec < -20 ORDER BY coadd_object_id LIMIT 500`,
    );
    const lines = body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('coadd_object_id,ra,dec');
    expect(lines.slice(1).map((l) => l.split(',').map(Number))).toEqual(
      want.rows.map((r) => [Number(r.id), r.ra, r.dec]),
    );

    const prov = (await (
      await fetch((await get(`${job}/results/provenance`, 'alice')).headers.get('location') ?? '')
    ).json()) as {
      rows: number;
      catalog: { name: string };
      query: string;
    };
    expect(prov).toMatchObject({ rows: 500, catalog: { name: 'des-sample' } });
    expect(prov.query).toContain('LIMIT 500');

    // The signed URL: tampered or expired (fake clock past the 900 s lifetime) is refused.
    // Another first hex digit of the signature (whatever it was).
    expect(
      (await fetch(signed.replace(/sig=(.)/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`))).status,
    ).toBe(403);
    expect((await fetch(signed.replace('result.csv', 'result.provenance.json'))).status).toBe(403);
    f.clock.now += 901_000;
    const late = await fetch(signed);
    expect([late.status, await late.text()]).toEqual([403, 'the URL has expired\n']);
    // Minted again on access, it works again.
    expect(
      (await fetch((await get(`${job}/results/result`, 'alice')).headers.get('location') ?? '')).status,
    ).toBe(200);
  });

  it('PHASE=RUN at creation starts the job; a failing query ends in ERROR with its summary and /error', async () => {
    const job = await create({
      LANG: 'PG-SQL',
      QUERY: 'SELECT missing_column FROM des_sample',
      PHASE: 'RUN',
    });
    const xml = await waitFor(job);
    expect(tag(xml, 'phase')).toBe('ERROR');
    expect(xml).toMatch(
      /<uws:errorSummary type="fatal" hasDetail="true"><uws:message>UndefinedColumn: column "missing_column" does not exist/,
    );
    const err = await (await get(`${job}/error`, 'alice')).text();
    expect(err).toContain('<INFO name="QUERY_STATUS" value="ERROR">UndefinedColumn');
    const refused = await create({ LANG: 'PG-SQL', QUERY: `DELETE FROM ${TABLE}`, PHASE: 'RUN' });
    expect(await waitFor(refused)).toMatch(
      /<uws:errorSummary type="fatal"[^>]*><uws:message>QueryNotSelectOnly/,
    );
  });

  it('refuses a malformed creation naming the parameter', async () => {
    for (const [form, msg] of [
      [{ LANG: 'ADQL' }, 'QUERY: is required'],
      [{ LANG: 'ADQL', QUERY: 'SELECT 1', PHASE: 'ABORT' }, "PHASE: 'ABORT' at creation"],
      [
        { LANG: 'ADQL', QUERY: 'SELECT 1', DESTRUCTION: 'tomorrow' },
        "DESTRUCTION: 'tomorrow' is not an ISO 8601",
      ],
      [{ LANG: 'ADQL', QUERY: 'SELECT 1', EXECUTIONDURATION: '-5' }, "EXECUTIONDURATION: '-5'"],
    ] as const) {
      const res = await postForm(`${f.base}/async`, form, 'alice');
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(msg);
    }
  });
});

describe('limits and stops', () => {
  it('executionDuration (set while PENDING) stops a streaming query; the backend is gone', async () => {
    const job = await create({ LANG: 'PG-SQL', QUERY: TRICKLE, MAXREC: '100000', FORMAT: 'votable' });
    const set = await postForm(`${job}/executionduration`, { EXECUTIONDURATION: '2' }, 'alice');
    expect(set.status).toBe(303);
    expect(await (await get(`${job}/executionduration`, 'alice')).text()).toBe('2');
    await postForm(`${job}/parameters`, { MAXREC: '100000' }, 'alice');
    const t0 = Date.now();
    await postForm(`${job}/phase`, { PHASE: 'RUN' }, 'alice');
    const xml = await waitFor(job);
    // The query cannot reach MAXREC in 2 s (it was ENDLESS once, whose 100,000 rows a quick run streamed in
    // under a second, so the deadline went untested): only the deadline can end it.
    expect(tag(xml, 'phase')).toBe('ERROR');
    expect(xml).toMatch(/<uws:message>ExecutionDurationExceeded/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(await runnerBackends()).toBe(0);
    // Once it ran, executionDuration and parameters are fixed.
    const late = await postForm(`${job}/executionduration`, { EXECUTIONDURATION: '5' }, 'alice');
    expect([late.status, await late.text()]).toEqual([
      409,
      expect.stringContaining('only while the job is PENDING'),
    ]);
  });

  it('ABORT stops an EXECUTING job and cancels its backend; a second job waits QUEUED meanwhile', async () => {
    const first = await create({
      LANG: 'PG-SQL',
      QUERY: ENDLESS,
      MAXREC: '100000',
      PHASE: 'RUN',
      EXECUTIONDURATION: '300',
    });
    const second = await create({ LANG: 'PG-SQL', QUERY: 'SELECT 1 AS one', PHASE: 'RUN' });
    const running = await (await get(`${first}?WAIT=10&PHASE=QUEUED`, 'alice')).text();
    expect(tag(running, 'phase')).toBe('EXECUTING');
    expect(tag(await (await get(second, 'alice')).text(), 'phase')).toBe('QUEUED'); // one slot per user
    // EXECUTING is set before the runner has connected: wait for its backend to appear.
    for (let i = 0; i < 100 && (await runnerBackends(ENDLESS)) === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await runnerBackends(ENDLESS)).toBe(1);
    const abort = await postForm(`${first}/phase`, { PHASE: 'ABORT' }, 'alice');
    expect(abort.status).toBe(303);
    expect(tag(await (await get(first, 'alice')).text(), 'phase')).toBe('ABORTED');
    expect(await runnerBackends()).toBe(0);
    expect(tag(await waitFor(second), 'phase')).toBe('COMPLETED');
  });
});

describe('the job list and the lifecycle', () => {
  it('filters by PHASE, AFTER and LAST, shows only the caller’s jobs, archives at destruction, deletes', async () => {
    f.clock.now = Date.parse('2026-12-03T00:00:00.000Z');
    const a1 = await create({ LANG: 'ADQL', QUERY: 'SELECT 1 AS x' });
    f.clock.now += 60_000;
    const a2 = await create({
      LANG: 'ADQL',
      QUERY: 'SELECT 2 AS x',
      PHASE: 'RUN',
      DESTRUCTION: '2026-12-03T01:00:00Z',
    });
    await waitFor(a2);
    const b1 = await create({ LANG: 'ADQL', QUERY: 'SELECT 3 AS x' }, 'bob');
    const id = (u: string): string => u.split('/').at(-1) ?? '';
    const ids = async (query: string, user: 'alice' | 'bob' = 'alice'): Promise<string[]> => {
      const xml = await (await get(`${f.base}/async${query}`, user)).text();
      return [...xml.matchAll(/<uws:jobref id="([0-9a-f]+)"/g)].map((m) => m[1] ?? '');
    };
    expect(await ids('?AFTER=2026-12-02T23:59:00Z')).toEqual([id(a1), id(a2)]);
    expect(await ids('?AFTER=2026-12-03T00:00:30Z')).toEqual([id(a2)]);
    expect(await ids('?AFTER=2026-12-02T23:59:00Z&PHASE=PENDING')).toEqual([id(a1)]);
    expect(await ids('?AFTER=2026-12-02T23:59:00Z&PHASE=PENDING&PHASE=COMPLETED')).toEqual([id(a1), id(a2)]);
    expect(await ids('?LAST=1')).toEqual([id(a2)]);
    expect(await ids('', 'bob')).toEqual([id(b1)]);
    const bad = await get(`${f.base}/async?PHASE=DONE`, 'alice');
    expect([bad.status, await bad.text()]).toEqual([
      400,
      expect.stringContaining("PHASE: 'DONE' is not a UWS phase"),
    ]);

    // Destruction: moved later (still within the hard limit), then passed on the fake clock.
    const moved = await postForm(`${a2}/destruction`, { DESTRUCTION: '2026-12-03T02:00:00Z' }, 'alice');
    expect(moved.status).toBe(303);
    expect(await (await get(`${a2}/destruction`, 'alice')).text()).toBe('2026-12-03T02:00:00.000Z');
    f.clock.now = Date.parse('2026-12-03T01:30:00Z');
    expect(await f.tap.store.sweep()).toBe(0);
    f.clock.now = Date.parse('2026-12-03T02:00:01Z');
    expect(await f.tap.store.sweep()).toBe(1);
    const archived = await (await get(a2, 'alice')).text();
    expect(tag(archived, 'phase')).toBe('ARCHIVED');
    expect(archived).toContain('<uws:results>\n  </uws:results>');
    expect((await get(`${a2}/results/result`, 'alice')).status).toBe(404);
    expect(await ids('?AFTER=2026-12-02T23:59:00Z')).toEqual([id(a1)]);
    expect(await ids('?PHASE=ARCHIVED')).toEqual([id(a2)]);

    // Deletion: DELETE and POST ACTION=DELETE, each a 303 to the list; then 404.
    const del = await fetch(a1, {
      method: 'DELETE',
      headers: { authorization: 'Bearer alice-token-0123456789abcdef' },
      redirect: 'manual',
    });
    expect([del.status, del.headers.get('location')]).toEqual([303, `${f.base}/async`]);
    expect((await get(a1, 'alice')).status).toBe(404);
    expect((await postForm(a2, { ACTION: 'DELETE' }, 'alice')).status).toBe(303);
    expect((await get(a2, 'alice')).status).toBe(404);
  });
});

describe('users', () => {
  it("cannot read, run, abort, delete or fetch the results of another user's job (404, as an unknown id)", async () => {
    const job = await create({ LANG: 'ADQL', QUERY: 'SELECT 7 AS seven', PHASE: 'RUN' });
    await waitFor(job);
    for (const path of [
      '',
      '/phase',
      '/parameters',
      '/results',
      '/results/result',
      '/error',
      '/quote',
      '/owner',
    ]) {
      const res = await get(`${job}${path}`, 'bob');
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await postForm(`${job}/phase`, { PHASE: 'ABORT' }, 'bob')).status).toBe(404);
    expect((await postForm(job, { ACTION: 'DELETE' }, 'bob')).status).toBe(404);
    expect((await get(job)).status).toBe(401);
    expect((await get(`${f.base}/async/000000000000000000000000`, 'alice')).status).toBe(404);
    expect(tag(await (await get(job, 'alice')).text(), 'phase')).toBe('COMPLETED');
  });
});
