// NotebookLab end to end on the real local control plane: the operator runs as a local process with the chart's
// ServiceAccount token; kwok plays the kubelet (and the fault annotations simulate image pull, crash, OOM).
import { describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson, uniqueName } from '../cluster/index.js';
import { condOf, labClient, labSuite, profile } from './support.js';

const run = uniqueName('nb');
const P = {
  retain: `${run}-retain`,
  del: `${run}-delete`,
  quota: `${run}-quota`,
  quotaSize: `${run}-quota-size`,
  cull: `${run}-cull`,
  life: `${run}-life`,
  nobind: `${run}-nobind`,
  wffc: `${run}-wffc`,
  update: `${run}-update`,
};
/** A StorageClass that binds on first consumer (no provisioner: the claim stays Pending, the Pod unschedulable). */
const WFFC_CLASS = `${run}-wffc`;

const { ns, activity, dumpOnFailure } = labSuite({
  run,
  namespace: 'nblab',
  profiles: P,
  env: () => ({
    SKYPORT_CULL_CHECK_INTERVAL: '1s',
    SKYPORT_POD_ANNOTATION_PREFIXES: 'e2e.skyport.io/',
    SKYPORT_HOME_BIND_TIMEOUT: '5s',
  }),
  setUp: async () => {
    await apply(profile(P.retain));
    await apply(profile(P.del, { home: { size: '1Gi', retainPolicy: 'Delete' } }));
    await apply(profile(P.quota, { quota: { maxLabs: 1 } }));
    await apply(profile(P.quotaSize, { quota: { maxLabs: 10, maxTotalHomeSize: '1536Mi' } }));
    await apply(
      profile(P.cull, { culling: { enabled: true, idleTimeout: '8s', maxLifetime: '1h', warnBefore: '5s' } }),
    );
    await apply(
      profile(P.life, {
        culling: { enabled: true, idleTimeout: '10s', maxLifetime: '10s', warnBefore: '4s' },
      }),
    );
    // No StorageClass of this name exists: nothing will ever bind the claim.
    await apply(
      profile(P.nobind, { home: { size: '1Gi', retainPolicy: 'Delete', storageClassName: P.nobind } }),
    );
    await apply({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: WFFC_CLASS },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    await apply(
      profile(P.wffc, { home: { size: '1Gi', retainPolicy: 'Delete', storageClassName: WFFC_CLASS } }),
    );
  },
  tearDown: async () => {
    await kubectl(['delete', 'storageclass', WFFC_CLASS, '--ignore-not-found']).catch(() => undefined);
  },
});
const { lab, apply, getLab, getObj, eventNames, waitPhase, patchSpec } = labClient(ns);
const cond = condOf;
const setState = (name: string, state: 'Running' | 'Stopped'): Promise<void> => patchSpec(name, { state });

describe('NotebookLab lifecycle', () => {
  it('creates every child and reports Ready with a URL, progress and observedGeneration', async () => {
    dumpOnFailure();
    await apply(lab('first', P.retain));
    const l = await waitPhase('first', 'Running');
    expect(l.status?.url).toBe(`http://first-lab.${ns()}.svc:8888/user/alice/first/lab`);
    expect(cond(l, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'LabReady',
      observedGeneration: l.metadata.generation,
    });
    expect(l.status?.observedGeneration).toBe(l.metadata.generation);
    expect(l.metadata.finalizers).toContain('skyport.io/home-volume');
    expect(l.status?.progress?.every((s) => s.state === 'Succeeded' && s.finishedAt !== undefined)).toBe(
      true,
    );
    expect(l.status?.progress?.map((s) => s.name)).toEqual([
      'Admitted',
      'HomeVolume',
      'Secret',
      'Service',
      'NetworkPolicy',
      'Pod',
      'Scheduled',
      'ImagePulled',
      'ServerReady',
    ]);

    for (const [kind, name] of [
      ['pod', 'first-lab'],
      ['service', 'first-lab'],
      ['secret', 'first-token'],
      ['networkpolicy', 'first-lab'],
    ] as const) {
      const o = await getObj(kind, name);
      expect(o?.metadata.ownerReferences, `${kind}/${name} owned by the lab`).toEqual([
        expect.objectContaining({ kind: 'NotebookLab', uid: l.metadata.uid, controller: true }),
      ]);
    }
    const pvc = await getObj('pvc', 'first-home');
    expect(pvc?.metadata.ownerReferences).toBeUndefined();
    const pod = await kubectlJson<{
      spec: {
        securityContext: Record<string, unknown>;
        containers: {
          securityContext: Record<string, unknown>;
          resources: unknown;
          env: { name: string; value?: string }[];
        }[];
      };
    }>(['get', 'pod', 'first-lab', '-n', ns()]);
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.spec.containers[0]?.resources).toEqual({
      requests: { cpu: '1', memory: '2Gi' },
      limits: { cpu: '1', memory: '2Gi' },
    });
    const token = Buffer.from(
      (await getObj('secret', 'first-token'))?.data?.['token'] ?? '',
      'base64',
    ).toString();
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(JSON.stringify(pod)).not.toContain(token);
    expect(await eventNames('first', 'Ready')).not.toEqual([]);
  });

  it('stop deletes the Pod and keeps the PVC; start reuses the same PVC and token', async () => {
    dumpOnFailure();
    const pvcBefore = await getObj('pvc', 'first-home');
    const tokenBefore = (await getObj('secret', 'first-token'))?.data?.['token'];
    await setState('first', 'Stopped');
    const stopped = await waitPhase('first', 'Stopped');
    expect(await getObj('pod', 'first-lab')).toBeUndefined();
    expect((await getObj('pvc', 'first-home'))?.metadata.uid).toBe(pvcBefore?.metadata.uid);
    expect(stopped.status?.lastTermination?.reason).toBe('User');
    expect(cond(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });

    await setState('first', 'Running');
    const again = await waitPhase('first', 'Running');
    expect(again.status?.observedGeneration).toBe(again.metadata.generation);
    expect((await getObj('pvc', 'first-home'))?.metadata.uid).toBe(pvcBefore?.metadata.uid);
    expect((await getObj('secret', 'first-token'))?.data?.['token']).toBe(tokenBefore);
    const pod = await kubectlJson<{
      spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
    }>(['get', 'pod', 'first-lab', '-n', ns()]);
    expect(pod.spec.volumes.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName).toBe(
      'first-home',
    );
  });

  it('deleting a lab under Retain keeps its PVC; under Delete removes it', async () => {
    dumpOnFailure();
    const kept = await getObj('pvc', 'first-home');
    await kubectl(['delete', 'notebooklab', 'first', '-n', ns(), '--wait=true', '--timeout=60s']);
    expect((await getObj('pvc', 'first-home'))?.metadata.uid).toBe(kept?.metadata.uid);
    await eventually(async () => (await getObj('pod', 'first-lab')) === undefined, {
      description: 'pod garbage-collected',
    });

    await apply(lab('doomed', P.del));
    await waitPhase('doomed', 'Running');
    expect(await getObj('pvc', 'doomed-home')).toBeDefined();
    await kubectl(['delete', 'notebooklab', 'doomed', '-n', ns(), '--wait=true', '--timeout=60s']);
    await eventually(async () => (await getObj('pvc', 'doomed-home')) === undefined, {
      timeoutMs: 30_000,
      description: 'home PVC deleted',
    });
  });

  it('the apiserver rejects invalid specs with a message naming the field', async () => {
    const both = kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(lab('bad1', P.retain, { image: 'x/y:1', imageAlias: 'recommended' })),
    });
    await expect(both).rejects.toThrow(/spec\.image.*mutually exclusive/);
    const state = kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(lab('bad2', P.retain, { state: 'Paused' })),
    });
    await expect(state).rejects.toThrow(/spec\.state.*Unsupported value: "Paused"/);
    const noOwner = kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookLab',
        metadata: { name: 'bad3', namespace: ns() },
        spec: { profile: P.retain },
      }),
    });
    await expect(noOwner).rejects.toThrow(/spec\.owner.*Required value/);
  });

  it('an alias the profile does not offer fails with InvalidSpec naming the field', async () => {
    dumpOnFailure();
    await apply(lab('alias', P.retain, { imageAlias: 'nightly' }));
    const l = await waitPhase('alias', 'Failed');
    expect(cond(l, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(l, 'Degraded')?.message).toMatch(/spec\.imageAlias: alias "nightly" is not offered/);
    expect(await getObj('pod', 'alias-lab')).toBeUndefined();
    await kubectl(['delete', 'notebooklab', 'alias', '-n', ns(), '--wait=false']);
  });
});

describe('quota', () => {
  it('refuses a lab beyond maxLabs with QuotaExceeded and admits it when another lab is deleted', async () => {
    dumpOnFailure();
    await apply(lab('q1', P.quota, {}, {}));
    await waitPhase('q1', 'Running');
    await apply(lab('q2', P.quota));
    const refused = await waitPhase('q2', 'Failed');
    expect(cond(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'QuotaExceeded' });
    expect(cond(refused, 'Degraded')?.message).toMatch(
      new RegExp(`Owner alice already has 1 lab\\(s\\) with profile ${P.quota} \\(maxLabs 1\\)`),
    );
    expect(await getObj('pod', 'q2-lab')).toBeUndefined();
    expect(await getObj('persistentvolumeclaim', 'q2-home')).toBeUndefined();
    const ev = await kubectl([
      'get',
      'events',
      '-n',
      ns(),
      '--field-selector',
      'involvedObject.name=q2,reason=QuotaExceeded',
      '-o',
      'name',
    ]);
    expect(ev.trim()).not.toBe('');

    await kubectl(['delete', 'notebooklab', 'q1', '-n', ns(), '--wait=false']);
    const admitted = await waitPhase('q2', 'Running', 30_000);
    expect(cond(admitted, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('refuses a lab beyond maxTotalHomeSize, and admits it when the admin raises the limit', async () => {
    dumpOnFailure();
    // 1Gi homes under a 1.5Gi total: the first lab fits, the second would make 2Gi.
    await apply(lab('s1', P.quotaSize));
    await waitPhase('s1', 'Running');
    await apply(lab('s2', P.quotaSize));
    const refused = await waitPhase('s2', 'Failed');
    expect(cond(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'QuotaExceeded' });
    expect(cond(refused, 'Degraded')?.message).toMatch(/would hold 2Gi of home storage .*maxTotalHomeSize/);
    // Refused: nothing is created, least of all the home claim whose storage the limit is about.
    for (const [kind, name] of [
      ['pod', 's2-lab'],
      ['persistentvolumeclaim', 's2-home'],
      ['secret', 's2-token'],
      ['service', 's2-lab'],
    ] as const)
      expect(await getObj(kind, name), `${kind} ${name}`).toBeUndefined();

    // A profile change wakes the labs that use it (the operator finds them through its cache index).
    await apply(profile(P.quotaSize, { quota: { maxLabs: 10, maxTotalHomeSize: '2Gi' } }));
    const admitted = await waitPhase('s2', 'Running', 30_000);
    expect(cond(admitted, 'Degraded')).toMatchObject({ status: 'False' });
    expect((await getLab('s1')).status?.phase).toBe('Running');
  });
});

describe('profile changes', () => {
  it('a running lab whose image alias moved reports UpdatePending with both images; a restart runs the new one', async () => {
    dumpOnFailure();
    const OLD = 'quay.io/jupyter/scipy-notebook:2025-06-02';
    const NEW = 'quay.io/jupyter/scipy-notebook:2025-09-15';
    const podImage = async (): Promise<string | undefined> =>
      (
        await kubectlJson<{ spec: { containers: { name: string; image: string }[] } }>([
          'get',
          'pod',
          'upd-lab',
          '-n',
          ns(),
        ])
      ).spec.containers.find((c) => c.name === 'lab')?.image;
    await apply(profile(P.update));
    await apply(lab('upd', P.update));
    expect((await waitPhase('upd', 'Running')).status?.image).toBe(OLD);

    // The admin moves the alias: the running server is left alone, and the lab says what a restart would change.
    await apply(
      profile(P.update, {
        images: { aliases: [{ name: 'recommended', image: NEW }], defaultAlias: 'recommended' },
      }),
    );
    const flagged = await eventually(
      async () => {
        const l = await getLab('upd');
        if (cond(l, 'UpdatePending')?.status !== 'True')
          throw new Error(`UpdatePending: ${JSON.stringify(cond(l, 'UpdatePending'))}`);
        return l;
      },
      { timeoutMs: 30_000, description: 'upd UpdatePending' },
    );
    expect(cond(flagged, 'UpdatePending')).toMatchObject({ reason: 'ImageChanged' });
    expect(cond(flagged, 'UpdatePending')?.message).toContain(
      `Running ${OLD}; the lab now resolves to ${NEW}`,
    );
    expect(flagged.status).toMatchObject({ phase: 'Running', image: OLD });
    expect(await podImage()).toBe(OLD);
    // One Event for the change (recorded just after the status write).
    await eventually(async () => (await eventNames('upd', 'UpdatePending')).length === 1, {
      timeoutMs: 10_000,
      description: 'one UpdatePending Event',
    });

    await setState('upd', 'Stopped');
    await waitPhase('upd', 'Stopped');
    await setState('upd', 'Running');
    const restarted = await waitPhase('upd', 'Running');
    expect(restarted.status?.image).toBe(NEW);
    expect(await podImage()).toBe(NEW);
    expect(cond(restarted, 'UpdatePending')?.status).toBe('False');
  });
});

describe('fail fast', () => {
  it.each([
    ['imagepull', { 'e2e.skyport.io/fault': 'image-pull' }, {}, 'ImagePullFailed', /cannot be pulled/],
    ['crash', { 'e2e.skyport.io/fault': 'crash-loop' }, {}, 'CrashLoop', /keeps crashing|restarted/],
    ['oom', { 'e2e.skyport.io/fault': 'oom-kill' }, {}, 'OOMKilled', /ran out of memory.*limit 2Gi/],
    ['unsched', {}, { size: 'enormous' }, 'Unschedulable', /No node can run the lab/],
  ] as const)('%s sets Degraded=%s with a hint within 60 s', async (name, annotations, spec, reason, msg) => {
    dumpOnFailure();
    const t0 = Date.now();
    await apply(lab(name, P.retain, spec, annotations));
    const l = await eventually(
      async () => {
        const x = await getLab(name);
        const d = cond(x, 'Degraded');
        if (d?.status !== 'True' || d.reason !== reason)
          throw new Error(`Degraded ${d?.status ?? '-'}/${d?.reason ?? '-'}`);
        return x;
      },
      { timeoutMs: 60_000, description: `${name} Degraded ${reason}` },
    );
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(l.status?.phase).toBe('Failed');
    expect(cond(l, 'Degraded')?.message).toMatch(msg);
    expect(cond(l, 'Degraded')?.message).toMatch(/Hint: /);
    expect(cond(l, 'Ready')).toMatchObject({ status: 'False', reason });
    if (reason === 'OOMKilled')
      expect(l.status?.lastTermination).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    await kubectl(['delete', 'notebooklab', name, '-n', ns(), '--wait=false']);
  });
});

describe('home volume', () => {
  it('creates the Pod with its unbound claim while few claims wait, and reports HomeVolumePending after the timeout', async () => {
    dumpOnFailure();
    await apply(lab('nobind', P.nobind));
    const l = await eventually(
      async () => {
        const x = await getLab('nobind');
        const d = cond(x, 'Degraded');
        if (d?.status !== 'True' || d.reason !== 'HomeVolumePending')
          throw new Error(`Degraded ${d?.status ?? '-'}/${d?.reason ?? '-'}`);
        return x;
      },
      { timeoutMs: 30_000, description: 'nobind Degraded HomeVolumePending' },
    );
    expect(l.status?.phase).toBe('Failed');
    expect(cond(l, 'Degraded')?.message).toMatch(
      new RegExp(`Home volume claim nobind-home \\(StorageClass ${P.nobind}\\) has not bound after \\d+ s`),
    );
    expect(cond(l, 'Degraded')?.message).toMatch(/Hint: .*kubectl describe pvc nobind-home/);
    expect(l.status?.progress?.find((p) => p.name === 'HomeVolume')?.state).toBe('Failed');
    // The claim exists, unbound; the Pod went out with it (few claims wait here) and cannot be scheduled.
    expect(await getObj('pvc', 'nobind-home')).toBeDefined();
    const pod = await kubectlJson<{ spec?: { nodeName?: string } }>(['get', 'pod', 'nobind-lab', '-n', ns()]);
    expect(pod.spec?.nodeName ?? '').toBe('');
    await kubectl(['delete', 'notebooklab', 'nobind', '-n', ns(), '--wait=false']);
  });

  it('holds a new Pod until its claim binds once EARLY_POD_MAX_WAITING claims wait', async () => {
    dumpOnFailure();
    // Eight labs whose claims never bind; each one's HomeVolumePending says the operator's cache has its claim.
    const waiting = Array.from({ length: 8 }, (_, i) => `wait${i}`);
    for (const n of waiting) await apply(lab(n, P.nobind));
    await eventually(
      async () => {
        for (const n of waiting)
          if (cond(await getLab(n), 'Degraded')?.reason !== 'HomeVolumePending')
            throw new Error(`${n} not reported`);
        return true;
      },
      { timeoutMs: 60_000, description: 'eight unbound claims reported' },
    );
    await apply(lab('late', P.nobind));
    const l = await eventually(
      async () => {
        const x = await getLab('late');
        if (cond(x, 'Degraded')?.reason !== 'HomeVolumePending') throw new Error('late not reported yet');
        return x;
      },
      { timeoutMs: 30_000, description: 'late Degraded HomeVolumePending' },
    );
    expect(l.status?.phase).toBe('Failed');
    expect(await getObj('pvc', 'late-home')).toBeDefined();
    expect(await getObj('pod', 'late-lab')).toBeUndefined();
    for (const n of [...waiting, 'late'])
      await kubectl(['delete', 'notebooklab', n, '-n', ns(), '--wait=false']);
  });

  it('creates the Pod at once when the class binds on first consumer (the scheduler provisions for it)', async () => {
    dumpOnFailure();
    await apply(lab('wffc', P.wffc));
    await eventually(async () => (await getObj('pod', 'wffc-lab')) !== undefined, {
      timeoutMs: 30_000,
      description: 'wffc Pod created',
    });
    const pvc = await kubectlJson<{ status?: { phase?: string } }>(['get', 'pvc', 'wffc-home', '-n', ns()]);
    expect(pvc.status?.phase).toBe('Pending');
    const l = await getLab('wffc');
    expect(cond(l, 'Degraded')?.reason).not.toBe('HomeVolumePending');
    await kubectl(['delete', 'notebooklab', 'wffc', '-n', ns(), '--wait=false']);
  });
});

describe('culling', () => {
  it('warns, then stops an idle lab (spec.state Stopped, home kept), reading activity with the lab token', async () => {
    dumpOnFailure();
    activity().setActivity(ns(), 'idle', new Date());
    await apply(lab('idle', P.cull));
    await waitPhase('idle', 'Running');
    const pvc = await getObj('pvc', 'idle-home');
    const warned = await eventually(
      async () => {
        const x = await getLab('idle');
        if (cond(x, 'IdleWarning')?.status !== 'True')
          throw new Error(`IdleWarning ${cond(x, 'IdleWarning')?.status ?? '-'}`);
        return x;
      },
      { timeoutMs: 20_000, description: 'idle warning' },
    );
    expect(warned.status?.cullAt).toBeDefined();
    expect(warned.status?.lastActivity).toBeDefined();
    expect(cond(warned, 'IdleWarning')?.message).toMatch(/will be stopped at/);
    const warnEvent = await kubectl([
      'get',
      'events',
      '-n',
      ns(),
      '--field-selector',
      'involvedObject.name=idle,reason=IdleWarning',
      '-o',
      'name',
    ]);
    expect(warnEvent.trim()).not.toBe('');

    const culled = await waitPhase('idle', 'Stopped', 30_000);
    expect(culled.spec.state).toBe('Stopped');
    expect(culled.status?.lastTermination).toMatchObject({ reason: 'Culled' });
    expect(cond(culled, 'IdleWarning')).toMatchObject({ status: 'False', reason: 'Culled' });
    expect(await getObj('pod', 'idle-lab')).toBeUndefined();
    expect((await getObj('pvc', 'idle-home'))?.metadata.uid).toBe(pvc?.metadata.uid);
    const token = Buffer.from(
      (await getObj('secret', 'idle-token'))?.data?.['token'] ?? '',
      'base64',
    ).toString();
    expect(activity().seenAuth(ns(), 'idle')).toContain(`token ${token}`);
  });

  it('stops a busy lab at its maximum lifetime', async () => {
    dumpOnFailure();
    const keepBusy = setInterval(() => activity().setActivity(ns(), 'busy', new Date()), 500);
    try {
      await apply(lab('busy', P.life));
      await waitPhase('busy', 'Running');
      const culled = await waitPhase('busy', 'Stopped', 40_000);
      expect(culled.status?.lastTermination).toMatchObject({ reason: 'MaxLifetime' });
    } finally {
      clearInterval(keepBusy);
    }
  });
});
