// Live progress of a QueryJob (issue 13): the runner patches its own QueryJob's status.progress with the pod's
// ServiceAccount, which the operator creates bound to a Role allowing get/patch of that one QueryJob's status. The
// runner's own reporter (services/query-runner/src/progress.ts) runs here with a token issued for that
// ServiceAccount (TokenRequest, as the kubelet mounts one), against the real apiserver and its RBAC; the pod's
// status is set as the kubelet would. The operator's status writes must leave the runner's figures alone.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../packages/service-kit/src/kube-access.js';
import { ProgressReporter, statusPatcher } from '../../services/query-runner/src/progress.js';
import { eventually, kubectlJson, serviceAccountToken } from '../cluster/index.js';
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

const s = queryJobSuite('qjp');
const { ns, catalog } = s;
const GOOD = 'SELECT coadd_object_id, ra, dec FROM des_sample WHERE dec > -30 ORDER BY coadd_object_id';

/** The apiserver as a pod sees it: its URL and CA from the test kubeconfig, and `token`. */
function access(token: string): KubeAccess {
  const text = readFileSync(process.env['SKYPORT_KUBECONFIG'] ?? '', 'utf8');
  const server = /server:\s*(\S+)/.exec(text)?.[1] ?? '';
  const ca = Buffer.from(/certificate-authority-data:\s*(\S+)/.exec(text)?.[1] ?? '', 'base64');
  return { server, token: () => token, ca };
}

/** A merge patch of a QueryJob's spec (not status) with `token`: the HTTP status code. */
function patchSpec(a: KubeAccess, namespace: string, name: string): Promise<number> {
  const url = new URL(`/apis/skyport.io/v1alpha1/namespaces/${namespace}/queryjobs/${name}`, a.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${a.token()}`, 'content-type': 'application/merge-patch+json' },
        ...(a.ca !== undefined && { ca: a.ca }),
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify({ spec: { phase: 'ABORT' } }));
  });
}

type Progress = { rows: number; bytes: number; updatedAt: string };
const progressOf = async (name: string): Promise<Progress | undefined> =>
  ((await getQueryJob(ns(), name)).status as { progress?: Progress } | undefined)?.progress;

describe('QueryJob live progress', () => {
  it("the runner's ServiceAccount patches its own job's status.progress, nothing else; the operator keeps it", async () => {
    s.dumpOnFailure();
    const op = await s.start({ args: ['--controllers=queryjob'] });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 180_000,
      intervalMs: 500,
      description: 'the operator is ready',
    });
    await applyObject(
      queryJob(ns(), 'live', catalog(), { query: GOOD, phase: 'RUN', output: { format: 'csv' } }),
    );
    await applyObject(queryJob(ns(), 'other', catalog(), { query: GOOD, output: { format: 'csv' } }));
    const queued = await phaseOf(ns(), 'live', 'QUEUED');

    // The identity: one ServiceAccount, its Role naming only this QueryJob, the binding; the pod runs as it.
    const role = await kubectlJson<{ rules: Record<string, unknown>[] }>([
      'get',
      'role',
      'live-run',
      '-n',
      ns(),
    ]);
    expect(role.rules).toEqual([
      {
        apiGroups: ['skyport.io'],
        resources: ['queryjobs/status'],
        resourceNames: ['live'],
        verbs: ['get', 'patch'],
      },
    ]);
    const pod = await nthPod(ns(), queued.metadata.uid, 1);
    const podSpec = await kubectlJson<{ spec: { serviceAccountName: string } }>([
      'get',
      'pod',
      pod.metadata.name,
      '-n',
      ns(),
    ]);
    expect(podSpec.spec.serviceAccountName).toBe('live-run');

    const a = access(await serviceAccountToken(ns(), 'live-run', { durationSeconds: 600 }));
    const warnings: string[] = [];
    let t = Date.parse('2026-12-03T12:00:00Z');
    const reporter = new ProgressReporter(statusPatcher(a, { namespace: ns(), name: 'live' }), {
      intervalMs: 5000,
      now: () => new Date(t),
      warn: (m) => warnings.push(m),
    });
    await reporter.flush({ rows: 4096, bytes: 300_000 });
    expect(warnings).toEqual([]);
    expect(await progressOf('live')).toEqual({
      rows: 4096,
      bytes: 300_000,
      updatedAt: '2026-12-03T12:00:00Z',
    });

    // The operator writes the status (EXECUTING): the runner's figures stay, and so do newer ones after it.
    await podRunning(ns(), pod.metadata.name);
    await phaseOf(ns(), 'live', 'EXECUTING');
    expect((await progressOf('live'))?.rows).toBe(4096);
    t += 5000;
    await reporter.flush({ rows: 8192, bytes: 600_000 });
    expect(await progressOf('live')).toEqual({
      rows: 8192,
      bytes: 600_000,
      updatedAt: '2026-12-03T12:00:05Z',
    });

    // Nothing else: another job's status, this job's spec.
    const elsewhere = new ProgressReporter(statusPatcher(a, { namespace: ns(), name: 'other' }), {
      warn: (m) => warnings.push(m),
    });
    await elsewhere.flush({ rows: 1, bytes: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/HTTP 403/);
    expect(elsewhere.sent).toBe(0);
    expect(await patchSpec(a, ns(), 'live')).toBe(403);
    expect((await getQueryJob(ns(), 'other')).status).not.toHaveProperty('progress');

    // Completion: the operator's final status keeps the runner's last report beside the result.
    await reporter.flush({ rows: 100, bytes: 4321 });
    await podExited(ns(), pod.metadata.name, 0, completedMessage(100));
    const done = await phaseOf(ns(), 'live', 'COMPLETED');
    expect(done.status).toMatchObject({ rows: 100 });
    expect(await progressOf('live')).toMatchObject({ rows: 100, bytes: 4321 });
    expect(reporter.sent).toBe(3);
  });
});
