// The cache transforms keep everything reconcile reads: a trimmed Pod reads exactly like the full one.
import { describe, expect, it } from 'vitest';
import type { KubeObject, V1Pod } from '../../kube/index.js';
import { TOKEN_KEY, buildChildren } from './build.js';
import { metadataOnly } from '../../runtime/index.js';
import { podForCache, pvcForCache, secretForCache } from './cache.js';
import { labFixture, profileFixture } from './fixtures.test-util.js';
import { readPod } from './pod.js';

/** The informer's plain JSON read as client-node's model, as reconcile does. */
const asPod = (o: KubeObject): V1Pod => o as V1Pod;
const asKube = (o: unknown): KubeObject => o as KubeObject;

const T = '2026-11-21T10:00:00Z';
const children = buildChildren(
  labFixture(),
  profileFixture(),
  { token: 'abc', podAnnotations: {} },
  { admitted: true },
);
/** As the informer receives it: plain JSON, with the apiserver's defaults and a node. */
function storedPod(status: Record<string, unknown>): KubeObject {
  const pod = JSON.parse(JSON.stringify(children.pod)) as KubeObject & { spec: Record<string, unknown> };
  pod.spec['nodeName'] = 'kwok-node-0';
  pod.spec['tolerations'] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  ];
  pod.spec['dnsPolicy'] = 'ClusterFirst';
  return { ...pod, status };
}
const cs = (s: Record<string, unknown>): Record<string, unknown> => ({
  name: 'lab',
  image: 'registry.example.org/des/lab:2026.07',
  imageID: '',
  ready: false,
  restartCount: 0,
  ...s,
});

describe('NotebookLab cache transforms', () => {
  const statuses: Record<string, Record<string, unknown>> = {
    pending: { phase: 'Pending' },
    ready: {
      phase: 'Running',
      startTime: T,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: T },
        { type: 'Ready', status: 'True', lastTransitionTime: T },
      ],
      containerStatuses: [cs({ ready: true, state: { running: { startedAt: T } } })],
    },
    imagePull: {
      phase: 'Pending',
      startTime: T,
      containerStatuses: [cs({ state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } })],
    },
    oomLoop: {
      phase: 'Running',
      startTime: T,
      containerStatuses: [
        cs({
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: T } },
        }),
      ],
    },
  };
  for (const [name, status] of Object.entries(statuses)) {
    it(`reads a trimmed ${name} Pod like the full one`, () => {
      const full = storedPod(status);
      const trimmed = podForCache(JSON.parse(JSON.stringify(full)) as KubeObject);
      expect(readPod(asPod(trimmed))).toEqual(readPod(asPod(full)));
      expect(trimmed.metadata).toEqual(full.metadata);
      expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(full).length);
    });
  }

  it('names the image and memory limit of an OOM kill from the trimmed Pod', () => {
    const f = readPod(asPod(podForCache(storedPod(statuses['oomLoop'] ?? {})))).failure;
    expect(f?.reason).toBe('OOMKilled');
    expect(f?.message).toContain('limit 2Gi');
  });

  it('keeps only the token of a Secret', () => {
    const secret = { ...asKube(children.token), data: { [TOKEN_KEY]: 'YWJj', other: 'c2VjcmV0' } };
    const trimmed = secretForCache(secret);
    expect(trimmed['data']).toEqual({ [TOKEN_KEY]: 'YWJj' });
    expect(trimmed.metadata).toEqual(secret.metadata);
    expect(secretForCache({ ...secret, data: { other: 'x' } })['data']).toBeUndefined();
  });

  it('keeps the metadata (spec hash) of Services and NetworkPolicies, and the phase of a PVC', () => {
    const svc = asKube(children.service);
    expect(metadataOnly(svc)).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: svc.metadata });
    const pvc = { ...asKube(children.home), status: { phase: 'Bound', capacity: { storage: '10Gi' } } };
    expect(pvcForCache(pvc)).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: pvc.metadata,
      spec: { storageClassName: 'standard' },
      status: { phase: 'Bound' },
    });
  });
});
