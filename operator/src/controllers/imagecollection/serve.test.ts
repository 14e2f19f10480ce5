// Golden-file tests of an ImageCollection's results server children, the invariants its Deployment must hold, its
// status, and a CutoutJob's resultsUrl. Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { imageCollectionValidator } from '../../api/validate.js';
import { sampleCollection, type ImageCollection } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { withResultsUrl } from '../cutoutjob/status.js';
import { RUNNER_UID } from '../cutoutjob/runner-pod.js';
import { resultsStatus } from './results.js';
import { buildResultsServer, cutoutResultsUrl, RESULTS_ROLE_RULES, resultsServerUrl } from './serve.js';

const IMAGE = 'localhost/skyport/cutout-runner:dev';

/** A collection as stored (CRD defaults filled in), its results under `cutouts/` of claim `des-results`. */
function collection(serve: Record<string, unknown> | undefined): ImageCollection {
  const s = sampleCollection();
  const r = imageCollectionValidator.validate({
    ...s,
    metadata: { name: 'des-sample', namespace: 'des-cutouts', uid: 'c0ffee00-1111-2222-3333-444455556666' },
    spec: {
      ...s.spec,
      results: {
        persistentVolumeClaim: { claimName: 'des-results', path: 'cutouts' },
        ...(serve && { serve }),
      },
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function golden(name: string, objs: KubeObject[]): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.yaml`, import.meta.url));
  const doc = objs.map((o) => stringify(o, { sortMapEntries: false })).join('---\n');
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, doc);
  expect(doc).toBe(readFileSync(path, 'utf8'));
}

type Pod = {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: {
    args: string[];
    env: { name: string; value: string }[];
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean } }[];
};
const podOf = (d: KubeObject) => (d['spec'] as { template: { spec: Pod } }).template.spec;

describe('results server children', () => {
  const c = collection({ secretName: 'des-results-server' });
  const children = buildResultsServer(c, IMAGE);

  it('match the golden files', () => {
    if (children === undefined) throw new Error('no children');
    golden('results-deployment', [children.deployment]);
    golden('results-service', [children.service]);
    golden('results-rbac', [children.serviceAccount, children.role, children.roleBinding]);
  });

  it('run `serve` under restricted Pod Security with the results claim read-only at its path', () => {
    const pod = podOf(children?.deployment ?? {});
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: RUNNER_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const ctr = pod.containers[0];
    expect(ctr?.args).toEqual(['serve']);
    expect(ctr?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(ctr?.volumeMounts.find((m) => m.name === 'results')).toEqual({
      name: 'results',
      mountPath: '/results',
      readOnly: true,
      subPath: 'cutouts',
    });
    expect(pod.volumes.find((v) => v.name === 'results')?.persistentVolumeClaim).toEqual({
      claimName: 'des-results',
      readOnly: true,
    });
    const env = Object.fromEntries((ctr?.env ?? []).map((e) => [e.name, e.value]));
    expect(env['CUTOUT_SERVE_COLLECTION']).toBe('des-sample');
    expect(env['CUTOUT_SERVE_NAMESPACE']).toBe('des-cutouts');
    expect(pod.serviceAccountName).toBe('des-sample-results');
  });

  it('grant only get and list on CutoutJobs, and are owned by the collection', () => {
    expect(children?.role['rules']).toEqual(RESULTS_ROLE_RULES);
    expect(RESULTS_ROLE_RULES).toEqual([
      { apiGroups: ['skyport.io'], resources: ['cutoutjobs'], verbs: ['get', 'list'] },
    ]);
    for (const o of Object.values(children ?? {}))
      expect((o as KubeObject).metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ImageCollection',
        name: 'des-sample',
        uid: c.metadata.uid,
        controller: true,
      });
  });

  it('are absent when serve is unset or disabled; replicas default to 1', () => {
    expect(buildResultsServer(collection(undefined), IMAGE)).toBeUndefined();
    expect(buildResultsServer(collection({ secretName: 's', enabled: false }), IMAGE)).toBeUndefined();
    expect((children?.deployment['spec'] as { replicas: number }).replicas).toBe(1);
    const three = buildResultsServer(collection({ secretName: 's', replicas: 3 }), IMAGE);
    expect((three?.deployment['spec'] as { replicas: number }).replicas).toBe(3);
  });
});

describe('results URLs', () => {
  const served = collection({ secretName: 'des-results-server' });

  it('the collection: its Service in-cluster, with the Deployment readiness in status', () => {
    expect(resultsServerUrl(served)).toBe('http://des-sample-results.des-cutouts.svc:8080');
    expect(resultsStatus(served, { status: { readyReplicas: 1 } })).toEqual({
      url: 'http://des-sample-results.des-cutouts.svc:8080',
      replicas: 1,
      readyReplicas: 1,
    });
    expect(resultsStatus(served, undefined)?.readyReplicas).toBe(0);
    expect(resultsStatus(collection(undefined), undefined)).toBeUndefined();
  });

  it("a CutoutJob's: set on COMPLETED only, changed or removed with the collection", () => {
    const url = cutoutResultsUrl(served, 'lens') ?? '';
    expect(url).toBe('http://des-sample-results.des-cutouts.svc:8080/cutoutjobs/lens');
    expect(cutoutResultsUrl(collection(undefined), 'lens')).toBeUndefined();
    expect(cutoutResultsUrl(undefined, 'lens')).toBeUndefined();
    const done = { phase: 'COMPLETED' as const, message: 'ok' };
    expect(withResultsUrl(done, url)).toEqual({ ...done, resultsUrl: url });
    expect(withResultsUrl({ ...done, resultsUrl: url }, url)).toBeUndefined();
    expect(withResultsUrl({ ...done, resultsUrl: url }, undefined)).toEqual(done);
    expect(withResultsUrl({ phase: 'ERROR' }, url)).toBeUndefined();
    expect(withResultsUrl(undefined, url)).toBeUndefined();
  });
});
