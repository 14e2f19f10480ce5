// QueryJob spec.notify on the real control plane (issue 13): a local HTTP receiver on the host gets exactly one
// signed event when a job completes; a receiver answering 500 twice gets the event on the third attempt and status
// says so; a destination the operator's policy refuses is given up at once with a Warning Event; a restarted
// operator sends nothing again, and one stopped between attempts is resumed by its successor from the record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson } from '../cluster/index.js';
import { startReceiver, validSignature, type Receiver } from '../services/receiver.js';
import {
  applyObject,
  completedMessage,
  getQueryJob,
  nthPod,
  phaseOf,
  podExited,
  podRunning,
  queryJob,
  queryJobSuite,
} from './support.js';

const s = queryJobSuite('qjn');
const { ns, catalog } = s;
const GOOD = 'SELECT coadd_object_id, ra, dec FROM des_sample WHERE dec > -30 ORDER BY coadd_object_id';
const KEY = 'e2e-hmac-key';
let receiver: Receiver;

interface Notification {
  phase: string;
  idempotencyKey: string;
  delivered: boolean;
  gaveUp?: boolean;
  attempts: number;
  lastAttemptTime?: string;
  lastError?: string;
}

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

/** Starts an operator whose policy lets notifications reach 127.0.0.1 over http, retrying fast. */
async function startOperator(backoff = '300ms') {
  const op = await s.start({
    args: ['--controllers=queryjob'],
    env: {
      SKYPORT_QUERYJOB_NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      SKYPORT_QUERYJOB_NOTIFY_ATTEMPTS: '3',
      SKYPORT_QUERYJOB_NOTIFY_BACKOFF: backoff,
      SKYPORT_QUERYJOB_NOTIFY_MAX_BACKOFF: '10m',
    },
  });
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 180_000,
    intervalMs: 500,
    description: 'the operator is ready',
  });
  return op;
}

async function submit(name: string, spec: Record<string, unknown>): Promise<void> {
  await applyObject(queryJob(ns(), name, catalog(), spec));
}

function notificationOf(name: string, done: (n: Notification) => boolean): Promise<Notification> {
  return eventually(
    async () => {
      const n = (await getQueryJob(ns(), name)).status as { notification?: Notification } | undefined;
      if (n?.notification === undefined || !done(n.notification))
        throw new Error(`notification ${JSON.stringify(n?.notification)}`);
      return n.notification;
    },
    { timeoutMs: 60_000, description: `${name}'s notification` },
  );
}

describe('QueryJob spec.notify', () => {
  it('a completed job: exactly one event, signed with the Secret key, naming the job and its result', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await applyObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-key', namespace: ns() },
      stringData: { secret: KEY },
    });
    await submit('gold', {
      query: GOOD,
      phase: 'RUN',
      notify: { webhook: { url: `${receiver.base}/gold`, secretRef: { name: 'hook-key' } } },
    });
    const q = await phaseOf(ns(), 'gold', 'QUEUED');
    const pod = await nthPod(ns(), q.metadata.uid, 1);
    await podRunning(ns(), pod.metadata.name);
    await phaseOf(ns(), 'gold', 'EXECUTING');
    expect(receiver.to('/gold')).toEqual([]); // nothing before the end
    await podExited(ns(), pod.metadata.name, 0, completedMessage(100));
    const n = await notificationOf('gold', (x) => x.delivered);
    expect(n).toMatchObject({
      phase: 'COMPLETED',
      idempotencyKey: `${q.metadata.uid}/COMPLETED`,
      delivered: true,
      attempts: 1,
    });
    const [got, ...more] = receiver.to('/gold');
    expect(more).toEqual([]);
    expect(got && validSignature(got, KEY)).toBe(true);
    expect(got && validSignature(got, 'another-key')).toBe(false);
    expect(got?.headers['x-skyport-idempotency-key']).toBe(`${q.metadata.uid}/COMPLETED`);
    const event = JSON.parse(got?.body ?? '{}') as Record<string, unknown>;
    expect(event).toMatchObject({
      type: 'skyport.io/job.ended',
      kind: 'QueryJob',
      namespace: ns(),
      name: 'gold',
      uid: q.metadata.uid,
      owner: 'jsmith',
      phase: 'COMPLETED',
      result: { summary: { rows: 100, overflow: false } },
    });
    expect((event['times'] as Record<string, string>)['ended']).toBeDefined();
    // A later reconcile (a label change wakes it) sends nothing again.
    await kubectl(['label', 'queryjob', 'gold', '-n', ns(), 'poke=1']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.to('/gold')).toHaveLength(1);
  });

  it('a receiver answering 500 twice: delivered on the third attempt, recorded in status', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    receiver.script('/flaky', [500, 500]);
    // Refused at submit: ERROR at once, no runner pod to play.
    await submit('flaky', {
      query: 'DROP TABLE des_sample',
      phase: 'RUN',
      notify: { webhook: { url: `${receiver.base}/flaky` } },
    });
    const q = await phaseOf(ns(), 'flaky', 'ERROR');
    const n = await notificationOf('flaky', (x) => x.delivered);
    expect(n).toMatchObject({ phase: 'ERROR', delivered: true, attempts: 3 });
    expect(n.lastError).toBeUndefined();
    const got = receiver.to('/flaky');
    expect(got.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(got.map((r) => r.headers['x-skyport-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(got.map((r) => r.headers['x-skyport-idempotency-key']))).toEqual(
      new Set([`${q.metadata.uid}/ERROR`]),
    );
    expect(got[0]?.headers['x-skyport-signature']).toBeUndefined();
    expect(JSON.parse(got[2]?.body ?? '{}')).toMatchObject({
      phase: 'ERROR',
      error: { code: 'QueryNotSelectOnly', type: 'fatal' },
    });
  });

  it('gives up after the attempts allowed, and at once on a refused destination, with a Warning Event', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    receiver.script('/down', [503, 503, 503]);
    await submit('down', {
      query: 'DROP TABLE des_sample',
      phase: 'RUN',
      notify: { webhook: { url: `${receiver.base}/down` } },
    });
    const port = new URL(receiver.base).port;
    // localhost is loopback and not in the operator's notifyAllowedHosts (127.0.0.1 is).
    await submit('refused', {
      query: 'DROP TABLE des_sample',
      phase: 'RUN',
      notify: { webhook: { url: `http://localhost:${port}/refused` } },
    });
    const down = await notificationOf('down', (x) => x.gaveUp === true);
    expect(down).toMatchObject({ delivered: false, attempts: 3, lastError: 'the webhook answered HTTP 503' });
    expect(receiver.to('/down')).toHaveLength(3);
    const refused = await notificationOf('refused', (x) => x.gaveUp === true);
    expect(refused.attempts).toBe(1);
    expect(refused.lastError).toMatch(/^spec\.notify\.webhook\.url: http is allowed only to hosts in/);
    expect(receiver.to('/refused')).toEqual([]);
    for (const name of ['down', 'refused'])
      await eventually(
        async () => {
          const ev = await kubectlJson<{ items: { reason: string; type: string; message: string }[] }>([
            'get',
            'events',
            '-n',
            ns(),
            '--field-selector',
            `involvedObject.name=${name},reason=NotificationFailed`,
          ]);
          expect(ev.items[0]?.type).toBe('Warning');
        },
        { timeoutMs: 30_000, description: `${name}'s NotificationFailed event` },
      );
  });

  it('a restarted operator sends nothing again for delivered or given-up notifications', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    const before = receiver.received.length;
    expect(before).toBeGreaterThan(0);
    for (const op of s.started) await op.stop();
    await startOperator();
    // The new operator lists every QueryJob and reconciles each; give it a moment beyond readiness.
    await new Promise((r) => setTimeout(r, 5000));
    expect(receiver.received.length).toBe(before);
  });

  it('an operator stopped between attempts: its successor resumes from the record and delivers once', async () => {
    s.dumpOnFailure();
    for (const op of s.started) await op.stop();
    // The first operator waits 10 minutes after a failure: it is stopped long before its retry.
    await startOperator('10m');
    receiver.script('/midway', [500]);
    await submit('midway', {
      query: 'DROP TABLE des_sample',
      phase: 'RUN',
      notify: { webhook: { url: `${receiver.base}/midway` } },
    });
    const first = await notificationOf('midway', (x) => x.attempts === 1);
    expect(first).toMatchObject({ delivered: false, lastError: 'the webhook answered HTTP 500' });
    for (const op of s.started) await op.stop();
    await startOperator('300ms');
    const n = await notificationOf('midway', (x) => x.delivered);
    expect(n.attempts).toBe(2);
    const got = receiver.to('/midway');
    expect(got.map((r) => [r.status, r.headers['x-skyport-attempt']])).toEqual([
      [500, '1'],
      [200, '2'],
    ]);
  });
});
