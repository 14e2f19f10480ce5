// The job-notification kit: the event, its signature and headers, the destination policy, the retry schedule on a
// fake clock, and the Notifier against a real loopback HTTP receiver (500, 500, then 200).
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Resolve } from '@skyport/anomaly/webhook';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../api/v1alpha1/notify.js';
import { FakeClock } from './clock.js';
import {
  afterAttempt,
  buildEvent,
  destinationProblem,
  eventHeaders,
  Notifier,
  notifyStep,
  retryDelayMs,
  type JobFacts,
  type NotifyingJob,
  type NotifyPolicy,
} from './notify.js';

const POLICY: NotifyPolicy = {
  allowedHosts: ['127.0.0.1', '*.svc.cluster.local'],
  attempts: 4,
  backoffMs: 1000,
  maxBackoffMs: 3000,
  timeoutMs: 2000,
};
const UID = '6b1f3c1e-0000-4000-8000-000000000001';

function job(url: string, notification?: Notification): NotifyingJob {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'QueryJob',
    metadata: { name: 'cone', namespace: 'alice', uid: UID, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { notify: { webhook: { url } } },
    ...(notification !== undefined && { status: { notification } }),
  };
}

const FACTS: JobFacts = {
  phase: 'COMPLETED',
  owner: 'alice',
  startTime: '2026-01-01T00:00:05Z',
  endTime: '2026-01-01T00:01:00Z',
  summary: { rows: 1000, overflow: false },
  files: [{ name: 'result.csv', bytes: 12345, sha256: 'a'.repeat(64) }],
};

describe('buildEvent and eventHeaders', () => {
  it('builds one event naming the job, its phase, times, result and the uid/phase idempotency key', () => {
    const e = buildEvent(job('https://hooks.example.org/x'), 'COMPLETED', FACTS);
    expect(e).toEqual({
      type: 'skyport.io/job.ended',
      idempotencyKey: `${UID}/COMPLETED`,
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'QueryJob',
      namespace: 'alice',
      name: 'cone',
      uid: UID,
      owner: 'alice',
      phase: 'COMPLETED',
      times: {
        created: '2026-01-01T00:00:00Z',
        started: '2026-01-01T00:00:05Z',
        ended: '2026-01-01T00:01:00Z',
      },
      result: { summary: { rows: 1000, overflow: false }, files: FACTS.files },
    });
    const err = buildEvent(job('https://h/x'), 'ERROR', {
      phase: 'ERROR',
      error: { code: 'QuoteOverLimit', message: 'too big', type: 'fatal' },
    });
    expect(err.error).toEqual({ code: 'QuoteOverLimit', message: 'too big', type: 'fatal' });
    expect(err).not.toHaveProperty('result');
    expect(err.idempotencyKey).toBe(`${UID}/ERROR`);
  });

  it('signs the body with HMAC-SHA256 of the key a receiver can verify, and signs nothing without a key', () => {
    const body = JSON.stringify(buildEvent(job('https://h/x'), 'COMPLETED', FACTS));
    const h = eventHeaders(body, `${UID}/COMPLETED`, 2, 'k3y');
    const expected = createHmac('sha256', 'k3y').update(body).digest('hex');
    expect(h['x-skyport-signature']).toBe(`sha256=${expected}`);
    expect(h['x-skyport-idempotency-key']).toBe(`${UID}/COMPLETED`);
    expect(h['x-skyport-attempt']).toBe('2');
    expect(eventHeaders(body + ' ', 'k', 1, 'k3y')['x-skyport-signature']).not.toBe(`sha256=${expected}`);
    expect(eventHeaders(body, 'k', 1, undefined)).not.toHaveProperty('x-skyport-signature');
  });
});

describe('destinationProblem', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data', /link-local or unspecified/],
    ['https://[::ffff:169.254.169.254]/', /link-local or unspecified/],
    ['https://[64:ff9b::a9fe:a9fe]/', /link-local or unspecified/],
    ['https://0x7f.0.0.2/', /host 127\.0\.0\.2 is a loopback/],
    ['https://[::1]:9/', /loopback/],
    ['https://localhost/', /loopback/],
    ['http://hooks.example.org/', /http is allowed only to hosts in/],
    ['ftp://hooks.example.org/', /scheme ftp: is not allowed/],
    ['https://u:p@hooks.example.org/', /credentials/],
    ['not a url', /is not a URL/],
  ])('refuses %s, naming spec.notify.webhook.url', (url, why) => {
    const p = destinationProblem(url, POLICY);
    expect(p).toMatch(/^spec\.notify\.webhook\.url: /);
    expect(p).toMatch(why);
  });

  it.each([
    'https://hooks.example.org/x',
    'https://10.1.2.3/x',
    'http://portal.ns.svc.cluster.local/hook',
    'http://127.0.0.1:8080/hook',
  ])('lets %s through', (url) => expect(destinationProblem(url, POLICY)).toBeUndefined());

  it('refuses link-local even for an allowed host', () => {
    expect(
      destinationProblem('http://169.254.169.254/', { ...POLICY, allowedHosts: ['169.254.169.254'] }),
    ).toMatch(/link-local/);
  });
});

describe('retry schedule (fake clock)', () => {
  it('doubles from the backoff and caps at the maximum', () => {
    expect([0, 1, 2, 3, 4, 40].map((n) => retryDelayMs(POLICY, n))).toEqual([
      0, 1000, 2000, 3000, 3000, 3000,
    ]);
  });

  it('sends at once, waits out the backoff after each failure, gives up after the last attempt', async () => {
    const clock = new FakeClock();
    const spec = { webhook: { url: 'https://h/x' } };
    let step = notifyStep(spec, UID, 'ERROR', undefined, clock.now(), POLICY);
    expect(step).toEqual({
      kind: 'send',
      record: { phase: 'ERROR', idempotencyKey: `${UID}/ERROR`, delivered: false, attempts: 0 },
    });
    let rec = step.kind === 'send' ? step.record : undefined;
    const waits: number[] = [];
    for (let i = 0; i < POLICY.attempts && rec !== undefined && rec.gaveUp !== true; i++) {
      step = notifyStep(spec, UID, 'ERROR', rec, clock.now(), POLICY);
      while (step.kind === 'wait') {
        waits.push(step.ms);
        await clock.advance(step.ms);
        step = notifyStep(spec, UID, 'ERROR', rec, clock.now(), POLICY);
      }
      expect(step.kind).toBe('send');
      rec = afterAttempt(rec, { ok: false, error: 'HTTP 500' }, new Date(clock.now()), POLICY);
    }
    expect(waits).toEqual([1000, 2000, 3000]);
    expect(rec).toMatchObject({ attempts: 4, delivered: false, gaveUp: true, lastError: 'HTTP 500' });
    expect(notifyStep(spec, UID, 'ERROR', rec, clock.now() + 1e9, POLICY)).toEqual({ kind: 'none' });
  });

  it('a final failure gives up at once; a delivery ends it; ARCHIVED after an end is not announced again', () => {
    const spec = { webhook: { url: 'https://h/x' } };
    const start = { phase: 'COMPLETED', idempotencyKey: `${UID}/COMPLETED`, delivered: false, attempts: 0 };
    const now = new Date(Date.UTC(2026, 0, 1));
    expect(afterAttempt(start, { ok: false, error: 'HTTP 410', final: true }, now, POLICY)).toMatchObject({
      attempts: 1,
      gaveUp: true,
    });
    const done = afterAttempt(start, { ok: true }, now, POLICY);
    expect(done).toEqual({ ...start, attempts: 1, delivered: true, lastAttemptTime: '2026-01-01T00:00:00Z' });
    expect(notifyStep(spec, UID, 'COMPLETED', done, now.getTime(), POLICY)).toEqual({ kind: 'none' });
    expect(notifyStep(spec, UID, 'ARCHIVED', done, now.getTime(), POLICY)).toEqual({ kind: 'none' });
    expect(notifyStep(spec, UID, 'ARCHIVED', undefined, 0, POLICY)).toMatchObject({ kind: 'send' });
    expect(notifyStep(spec, UID, 'EXECUTING', undefined, 0, POLICY)).toEqual({ kind: 'none' });
    expect(notifyStep(undefined, UID, 'COMPLETED', undefined, 0, POLICY)).toEqual({ kind: 'none' });
    // A later, different end (refused at submit, fixed, run) is a new event with its own key.
    expect(notifyStep(spec, UID, 'COMPLETED', { ...done, phase: 'ERROR' }, 0, POLICY)).toMatchObject({
      kind: 'send',
      record: { phase: 'COMPLETED', attempts: 0 },
    });
  });
});

describe('Notifier against a loopback receiver', () => {
  let server: Server;
  let url = '';
  const answers: number[] = [];
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received.length = 0;
    answers.length = 0;
  });

  function notifier(clock: FakeClock, policy = POLICY, resolve?: Resolve) {
    const events: string[] = [];
    const sink = {
      normal: (_o: unknown, reason: string) => Promise.resolve(void events.push(`Normal ${reason}`)),
      warning: (_o: unknown, reason: string) => Promise.resolve(void events.push(`Warning ${reason}`)),
    };
    const kube = { get: () => Promise.reject(new Error('no Secret is read without secretRef')) };
    const now = () => new Date(clock.now());
    return { n: new Notifier({ kube, events: sink, policy, now, ...(resolve && { resolve }) }), events };
  }

  it('500, 500, 200: delivered on the third attempt, each after its backoff, recorded in status', async () => {
    answers.push(500, 500, 200);
    const clock = new FakeClock();
    const { n, events } = notifier(clock);
    const box: { status?: Notification } = {};
    const write = (x: Notification) => Promise.resolve(void (box.status = x));
    const requeues: (number | undefined)[] = [];
    const delivered = (): boolean => box.status?.delivered === true;
    for (let i = 0; i < 10 && !delivered(); i++) {
      const r = await n.sync(job(url, box.status), FACTS, write);
      requeues.push(r?.requeueAfterMs);
      // An early wake-up (a resync) is told to wait for the rest of the backoff, and sends nothing.
      const early = await n.sync(job(url, box.status), FACTS, write);
      if (!delivered()) expect(early?.requeueAfterMs).toBe(r?.requeueAfterMs);
      await clock.advance(r?.requeueAfterMs ?? 0);
    }
    const status = box.status;
    expect(received).toHaveLength(3);
    expect(received.map((x) => x.headers['x-skyport-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(received.map((x) => x.headers['x-skyport-idempotency-key']))).toEqual(
      new Set([`${UID}/COMPLETED`]),
    );
    expect(new Set(received.map((x) => x.body)).size).toBe(1);
    expect(requeues).toEqual([1000, 2000, undefined]);
    expect(status).toMatchObject({ phase: 'COMPLETED', delivered: true, attempts: 3 });
    expect(status).not.toHaveProperty('lastError');
    expect(events).toEqual(['Normal NotificationDelivered']);
    // A restarted operator reads the record: nothing is sent again.
    const again = notifier(clock).n;
    expect(await again.sync(job(url, status), FACTS, write)).toBeUndefined();
    expect(received).toHaveLength(3);
  });

  it('gives up after the last attempt with a Warning Event', async () => {
    answers.push(503, 503);
    const clock = new FakeClock();
    const { n, events } = notifier(clock, { ...POLICY, attempts: 2 });
    let status: Notification | undefined;
    const write = (x: Notification) => Promise.resolve(void (status = x));
    const r1 = await n.sync(job(url, status), FACTS, write);
    await clock.advance(r1?.requeueAfterMs ?? 0);
    expect(await n.sync(job(url, status), FACTS, write)).toBeUndefined();
    expect(status).toMatchObject({
      attempts: 2,
      delivered: false,
      gaveUp: true,
      lastError: 'the webhook answered HTTP 503',
    });
    expect(events).toEqual(['Warning NotificationFailed']);
    expect(received).toHaveLength(2);
  });

  it('refuses a loopback receiver that is not an allowed host, without connecting', async () => {
    const clock = new FakeClock();
    const { n, events } = notifier(clock, { ...POLICY, allowedHosts: [] });
    let status: Notification | undefined;
    await n.sync(job(url.replace('http:', 'https:'), status), FACTS, (x) =>
      Promise.resolve(void (status = x)),
    );
    expect(status).toMatchObject({ gaveUp: true, attempts: 1 });
    expect(status?.lastError).toMatch(/^spec\.notify\.webhook\.url: host 127\.0\.0\.1 is a loopback address/);
    expect(events).toEqual(['Warning NotificationFailed']);
    expect(received).toHaveLength(0);
  });

  it('checks the addresses a name resolves to at connect time: loopback only for an allowed name', async () => {
    const clock = new FakeClock();
    const port = new URL(url).port;
    const resolve: Resolve = (_host, _opts, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]);
    const { n } = notifier(clock, { ...POLICY, allowedHosts: ['*.svc.test'] }, resolve);
    let status: Notification | undefined;
    const write = (x: Notification) => Promise.resolve(void (status = x));
    await n.sync(job(`https://rebound.example.org:${port}/hook`), FACTS, write);
    expect(received).toHaveLength(0);
    expect(status).toMatchObject({ delivered: false, gaveUp: true, attempts: 1 });
    expect(status?.lastError).toMatch(
      /resolves to 127\.0\.0\.1, a link-local, unspecified or loopback address/,
    );
    status = undefined;
    await n.sync(job(`http://hooks.ns.svc.test:${port}/hook`), FACTS, write);
    expect(status).toMatchObject({ delivered: true, attempts: 1 });
    expect(received).toHaveLength(1);
  });
});
