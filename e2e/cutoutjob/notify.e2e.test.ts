// CutoutJob spec.notify on the real control plane (issue 14): a local HTTP receiver on the host gets exactly one
// signed event when a job is aborted; a job that fails terminally (its positions ConfigMap lacks the key) is
// announced too — its key re-queued, not parked — and a receiver answering 500 twice gets it on the third attempt,
// with status saying so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorSuite } from '../operator/suite.js';
import { startReceiver, validSignature, type Receiver } from '../services/receiver.js';
import { cutoutKit, sampleIndexReport, type Obj } from './support.js';

const suite = operatorSuite({
  namespace: 'cutn',
  profiles: [],
  setUp: async (ns) => {
    for (const claim of ['des-tiles', 'des-cutouts'])
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claim, namespace: ns },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
  },
});
const { apply, list, waitFor, endPod } = cutoutKit(() => suite.ns());
const KEY = 'cutout-hmac-key';
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  await suite.start({
    args: ['--controllers=imagecollection,cutoutjob'],
    env: {
      SKYPORT_CUTOUTJOB_NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      SKYPORT_CUTOUTJOB_NOTIFY_ATTEMPTS: '4',
      SKYPORT_CUTOUTJOB_NOTIFY_BACKOFF: '300ms',
      SKYPORT_CUTOUTJOB_NOTIFY_MAX_BACKOFF: '2s',
    },
  });
}, 120_000);
afterAll(async () => {
  await receiver.close();
});

function cutout(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'CutoutJob',
    metadata: { name, namespace: suite.ns() },
    spec: { owner: 'alice', imageCollection: 'des', positions: { inline: 'RA,DEC\n0.0,-30.0\n' }, ...spec },
  };
}

const notification = (o: Obj) => o.status?.['notification'] as Record<string, unknown> | undefined;

describe('CutoutJob spec.notify', () => {
  it('an aborted job: exactly one event, signed with the Secret key', async () => {
    suite.dumpOnFailure();
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-key', namespace: suite.ns() },
      stringData: { hmac: KEY },
    });
    const url = `${receiver.base}/aborted`;
    await apply(
      cutout('held', {
        phase: 'PENDING',
        notify: { webhook: { url, secretRef: { name: 'hook-key', key: 'hmac' } } },
      }),
    );
    await waitFor('cutoutjob', 'held', 'PENDING', (o) => o.status?.phase === 'PENDING');
    expect(receiver.to('/aborted')).toEqual([]);
    await apply(
      cutout('held', {
        phase: 'ABORT',
        notify: { webhook: { url, secretRef: { name: 'hook-key', key: 'hmac' } } },
      }),
    );
    const done = await waitFor(
      'cutoutjob',
      'held',
      'notified',
      (o) => notification(o)?.['delivered'] === true,
    );
    expect(done.status?.phase).toBe('ABORTED');
    expect(notification(done)).toMatchObject({
      phase: 'ABORTED',
      attempts: 1,
      idempotencyKey: `${done.metadata.uid}/ABORTED`,
    });
    const [got, ...more] = receiver.to('/aborted');
    expect(more).toEqual([]);
    expect(got && validSignature(got, KEY)).toBe(true);
    expect(JSON.parse(got?.body ?? '{}')).toMatchObject({
      kind: 'CutoutJob',
      name: 'held',
      namespace: suite.ns(),
      uid: done.metadata.uid,
      owner: 'alice',
      phase: 'ABORTED',
    });
    // A later reconcile (a label change wakes it) sends nothing again.
    await apply({
      ...cutout('held', {
        phase: 'ABORT',
        notify: { webhook: { url, secretRef: { name: 'hook-key', key: 'hmac' } } },
      }),
      metadata: { name: 'held', namespace: suite.ns(), labels: { poke: '1' } },
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.to('/aborted')).toHaveLength(1);
  });

  it('a terminal ERROR and a receiver answering 500 twice: delivered on the third attempt, recorded in status', async () => {
    suite.dumpOnFailure();
    // A Ready collection: kwok ends the indexing pod without a report, the test gives it the runner's.
    await apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'ImageCollection',
      metadata: { name: 'des', namespace: suite.ns() },
      spec: {
        source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
        results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
      },
    });
    const c = await waitFor('imagecollection', 'des', 'Failed', (o) => o.status?.phase === 'Failed');
    const [ip] = await list('pods', `batch.kubernetes.io/job-name=${String(c.status?.['indexJob'])}`);
    await endPod(ip!, await sampleIndexReport());
    await waitFor('imagecollection', 'des', 'Ready', (o) => o.status?.phase === 'Ready');
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'positions', namespace: suite.ns() },
      data: { other: 'RA,DEC\n' },
    });
    receiver.script('/flaky', [500, 500]);
    await apply(
      cutout('broken', {
        positions: { configMapRef: { name: 'positions', key: 'positions.csv' } },
        notify: { webhook: { url: `${receiver.base}/flaky` } },
      }),
    );
    const done = await waitFor(
      'cutoutjob',
      'broken',
      'notified',
      (o) => notification(o)?.['delivered'] === true,
    );
    expect(done.status?.phase).toBe('ERROR');
    expect(notification(done)).toMatchObject({ phase: 'ERROR', attempts: 3, delivered: true });
    const got = receiver.to('/flaky');
    expect(got.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(got.map((r) => r.headers['x-skyport-idempotency-key']))).toEqual(
      new Set([`${done.metadata.uid}/ERROR`]),
    );
    const event = JSON.parse(got[2]?.body ?? '{}') as {
      phase?: string;
      error?: { code: string; message: string };
    };
    expect(event.phase).toBe('ERROR');
    expect(event.error?.code).toBe('PositionsNotFound');
    expect(event.error?.message).toMatch(/^spec\.positions\.configMapRef: /);
  });
});
