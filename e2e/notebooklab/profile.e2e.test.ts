// NotebookLab against profile changes on the real control plane (issue 9): a lab is given no child before its
// profile is known valid, a fixed profile recovers its labs without an operator restart, and a running lab whose
// profile disappears (or whose size the profile lacks) keeps its server, flagged, until it is stopped.
import { describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson, uniqueName } from '../cluster/index.js';
import { condOf, inPhase, labClient, labSuite, profile } from './support.js';

const run = uniqueName('nbp');
const P = {
  bad: `${run}-bad`,
  gone: `${run}-gone`,
  size: `${run}-size`,
  late: `${run}-late`,
  quota: `${run}-quota`,
};
const HOME_SIZE_RULES =
  '/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/home/properties/size/x-kubernetes-validations';

/**
 * Creates a profile with `home.size: -10Gi`, as one stored before the CRD's quantity bounds existed: the rule is
 * lifted from the CRD for the create, then put back (so an upgraded cluster can hold such a profile).
 */
async function createPreBoundsProfile(name: string): Promise<void> {
  const crd = await kubectlJson<unknown>(['get', 'crd', 'notebookprofiles.skyport.io']);
  const rules = HOME_SIZE_RULES.split('/')
    .slice(1)
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], crd);
  expect(rules, 'the CRD bounds home.size').toBeDefined();
  const patchCrd = (ops: unknown[]) =>
    kubectl(['patch', 'crd', 'notebookprofiles.skyport.io', '--type=json', '-p', JSON.stringify(ops)]);
  await patchCrd([{ op: 'remove', path: HOME_SIZE_RULES }]);
  try {
    await eventually(() => k.apply(profile(name, { home: { size: '-10Gi', retainPolicy: 'Delete' } })), {
      timeoutMs: 30_000,
      description: 'the apiserver accepts home.size -10Gi without its rule',
    });
  } finally {
    await patchCrd([{ op: 'add', path: HOME_SIZE_RULES, value: rules }]);
  }
}

const { ns, activity, dumpOnFailure } = labSuite({
  run,
  namespace: 'nbprof',
  profiles: P,
  env: () => ({ SKYPORT_CULL_CHECK_INTERVAL: '1s' }),
  setUp: async () => {
    await k.apply(profile(P.gone));
    await k.apply(
      profile(P.size, {
        culling: { enabled: true, idleTimeout: '30s', maxLifetime: '30s', warnBefore: '5s' },
      }),
    );
  },
});
const k = labClient(ns);

describe('a profile that breaks its schema', () => {
  it('gives its lab no child, then recovers the lab when the admin fixes it (no restart, no lab change)', async () => {
    dumpOnFailure();
    await createPreBoundsProfile(P.bad);
    await k.apply(k.lab('broken', P.bad));
    const failed = await k.waitLab('broken', 'Failed', inPhase('Failed'));
    // Nothing exists before the spec is known valid.
    for (const [kind, name] of [
      ['pvc', 'broken-home'],
      ['secret', 'broken-token'],
      ['service', 'broken-lab'],
      ['networkpolicy', 'broken-lab'],
      ['pod', 'broken-lab'],
    ] as const)
      expect(await k.getObj(kind, name), `${kind}/${name}`).toBeUndefined();
    expect(condOf(failed, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidProfile' });
    expect(condOf(failed, 'Degraded')?.message).toContain(
      'spec.home.size: must be a whole number of bytes from 1Mi to 1Pi',
    );
    await kubectl([
      'patch',
      'notebookprofile',
      P.bad,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { home: { size: '1Gi' } } }),
    ]);
    const recovered = await k.waitLab('broken', 'Running', inPhase('Running'));
    expect(condOf(recovered, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('is Ready=False naming the field, and Ready=True once fixed; a valid profile is Ready=True', async () => {
    dumpOnFailure();
    const name = `${run}-ready`;
    await createPreBoundsProfile(name);
    try {
      const bad = await profileReady(name, 'False');
      expect(bad).toMatchObject({ reason: 'InvalidProfile', observedGeneration: 1 });
      expect(bad.message).toContain('spec.home.size: must be a whole number of bytes from 1Mi to 1Pi');
      await kubectl([
        'patch',
        'notebookprofile',
        name,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { home: { size: '1Gi' } } }),
      ]);
      expect(await profileReady(name, 'True')).toMatchObject({
        reason: 'Valid',
        observedGeneration: 2,
        message: 'Offers 1 image alias and 2 sizes',
      });
      // A profile the apiserver accepted in the first place is Ready from the start.
      expect(await profileReady(P.gone, 'True')).toMatchObject({ reason: 'Valid', observedGeneration: 1 });
    } finally {
      await kubectl(['delete', 'notebookprofile', name, '--ignore-not-found']);
    }
  });
});

interface ProfileCondition {
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Waits for the profile's Ready condition to have `status`, and returns it. */
function profileReady(name: string, status: 'True' | 'False'): Promise<ProfileCondition> {
  return eventually(
    async () => {
      const p = await kubectlJson<{ status?: { conditions?: (ProfileCondition & { type: string })[] } }>([
        'get',
        'notebookprofile',
        name,
      ]);
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status, `NotebookProfile ${name} Ready`).toBe(status);
      return ready as ProfileCondition;
    },
    { timeoutMs: 30_000, description: `NotebookProfile ${name} Ready=${status}` },
  );
}

describe('a lab Failed because of its profile', () => {
  it('starts when its missing profile appears, and when the profile gains the size it asks for', async () => {
    dumpOnFailure();
    await k.apply(k.lab('early', P.late, { size: 'medium' }));
    const missing = await k.waitLab('early', 'Failed', inPhase('Failed'));
    expect(condOf(missing, 'Degraded')).toMatchObject({ status: 'True', reason: 'ProfileNotFound' });
    await k.apply(profile(P.late));
    const noSize = await k.waitLab('early', 'InvalidSpec', (l) => {
      if (condOf(l, 'Degraded')?.reason !== 'InvalidSpec')
        throw new Error(JSON.stringify(condOf(l, 'Degraded')));
    });
    expect(noSize.status?.phase).toBe('Failed');
    const sizes = [
      { name: 'small', requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
      { name: 'medium', requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
    ];
    await kubectl([
      'patch',
      'notebookprofile',
      P.late,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { sizes } }),
    ]);
    const running = await k.waitLab('early', 'Running', inPhase('Running'));
    expect(running.status).toMatchObject({ size: 'medium' });
  });
});

describe('stops the operator decides', () => {
  it('a running lab the quota no longer admits is stopped with lastTermination QuotaExceeded', async () => {
    dumpOnFailure();
    await k.apply(profile(P.quota, { quota: { maxLabs: 2 } }));
    await k.apply(k.lab('q-one', P.quota));
    await k.waitLab('q-one', 'Running', inPhase('Running'));
    await k.apply(k.lab('q-two', P.quota));
    await k.waitLab('q-two', 'Running', inPhase('Running'));
    await kubectl([
      'patch',
      'notebookprofile',
      P.quota,
      '--type=merge',
      '-p',
      '{"spec":{"quota":{"maxLabs":1}}}',
    ]);
    const refused = await k.waitLab('q-two', 'stopped by quota', (l) => {
      if (l.status?.lastTermination?.reason !== 'QuotaExceeded') throw new Error(JSON.stringify(l.status));
    });
    expect(refused.status?.lastTermination?.message).toContain('quota');
    expect(condOf(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'QuotaExceeded' });
    await eventually(async () => (await k.getObj('pod', 'q-two-lab')) === undefined, {
      description: 'q-two Pod deleted',
    });
    expect((await k.getLab('q-one')).status?.phase).toBe('Running');
  });
});

describe('a lab spec its Pod could not have', () => {
  it('a volume mounted on the home path fails with InvalidSpec before any child exists', async () => {
    dumpOnFailure();
    const volumes = [{ name: 'data', mountPath: '/home/jovyan', configMap: { name: 'data' } }];
    await k.apply(k.lab('clash', P.size, { volumes }));
    const failed = await k.waitLab('clash', 'Failed', inPhase('Failed'));
    for (const [kind, name] of [
      ['pvc', 'clash-home'],
      ['secret', 'clash-token'],
      ['service', 'clash-lab'],
      ['networkpolicy', 'clash-lab'],
      ['pod', 'clash-lab'],
    ] as const)
      expect(await k.getObj(kind, name), `${kind}/${name}`).toBeUndefined();
    expect(condOf(failed, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: `spec.volumes[0].mountPath: /home/jovyan is where profile ${P.size} mounts the home volume; choose another path`,
    });
  });
});

describe('a running lab that no longer resolves', () => {
  it('keeps its Pod when its profile is deleted, flagged with one Warning; stopping it records User', async () => {
    dumpOnFailure();
    await k.apply(k.lab('orphan', P.gone));
    const started = await k.waitLab('orphan', 'Running', inPhase('Running'));
    const pod = await k.getObj('pod', 'orphan-lab');
    await kubectl(['delete', 'notebookprofile', P.gone]);
    const flagged = await k.waitLab('orphan', 'Degraded ProfileNotFound', (l) => {
      if (condOf(l, 'Degraded')?.reason !== 'ProfileNotFound')
        throw new Error(JSON.stringify(condOf(l, 'Degraded')));
    });
    expect(flagged.status).toMatchObject({ phase: 'Running', url: started.status?.url });
    expect(condOf(flagged, 'Degraded')?.message).toContain(
      'The running server is kept until you stop the lab or its maximum lifetime ends',
    );
    await eventually(async () => (await k.eventNames('orphan', 'ProfileNotFound')).length === 1, {
      description: 'one ProfileNotFound Warning',
    });
    // Still the same Pod, not being deleted, a few reconciles later.
    await new Promise((r) => setTimeout(r, 3_000));
    const still = await k.getObj('pod', 'orphan-lab');
    expect(still?.metadata.uid).toBe(pod?.metadata.uid);
    expect(still?.metadata.deletionTimestamp).toBeUndefined();
    expect(await k.eventNames('orphan', 'ProfileNotFound')).toHaveLength(1);

    await k.patchSpec('orphan', { state: 'Stopped' });
    const stopped = await k.waitLab('orphan', 'stopped', (l) => {
      if (l.status?.lastTermination?.reason !== 'User') throw new Error(JSON.stringify(l.status));
    });
    expect(stopped.status?.lastTermination?.message).toContain('spec.state to Stopped');
    await eventually(async () => (await k.getObj('pod', 'orphan-lab')) === undefined, {
      description: 'orphan Pod deleted',
    });
  });

  it('keeps its Pod when patched to a size the profile lacks, until its maximum lifetime (MaxLifetime)', async () => {
    dumpOnFailure();
    const keepBusy = setInterval(() => activity().setActivity(ns(), 'resized', new Date()), 500);
    try {
      await k.apply(k.lab('resized', P.size));
      await k.waitLab('resized', 'Running', inPhase('Running'));
      const pod = await k.getObj('pod', 'resized-lab');
      await k.patchSpec('resized', { size: 'huge' });
      const flagged = await k.waitLab('resized', 'Degraded InvalidSpec', (l) => {
        if (condOf(l, 'Degraded')?.reason !== 'InvalidSpec')
          throw new Error(JSON.stringify(condOf(l, 'Degraded')));
      });
      expect(flagged.status?.phase).toBe('Running');
      expect((await k.getObj('pod', 'resized-lab'))?.metadata.uid).toBe(pod?.metadata.uid);
      expect(await k.eventNames('resized', 'InvalidSpec')).toHaveLength(1);
      const ended = await k.waitLab(
        'resized',
        'stopped at its maximum lifetime',
        (l) => {
          if (l.status?.lastTermination?.reason !== 'MaxLifetime') throw new Error(JSON.stringify(l.status));
        },
        45_000,
      );
      expect(ended.spec.state).toBe('Stopped');
      expect(ended.status?.lastTermination?.message).toBe('Stopped after its maximum lifetime of 30s');
    } finally {
      clearInterval(keepBusy);
    }
  });
});
