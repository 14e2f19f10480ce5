// NotebookLab and objects it did not make (issue 9, items 1-3), quota counting (item 7) and the status of a lab that
// never had a home (item 8), on the real local control plane with the operator as a local process.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  uniqueName,
} from '../cluster/index.js';
import { installChartOnce, startActivityServer, startOperator } from '../operator/support.js';
import type { ActivityServer, OperatorProcess } from '../operator/support.js';
import {
  applyObject,
  condOf,
  eventNamesIn,
  getLabIn,
  getObjectIn,
  labObject,
  profile,
  waitPhaseIn,
  type Lab,
} from './support.js';

let ns = '';
let op: OperatorProcess;
let activity: ActivityServer;
const run = uniqueName('own');
const P = { retain: `${run}-retain`, del: `${run}-delete`, one: `${run}-one` };

/** An object as these tests compare it: what must not change when the lab refuses to touch it. */
interface Full {
  kind?: string;
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const apply = applyObject;
const lab = (
  name: string,
  profileName: string,
  spec: Record<string, unknown> = {},
): Record<string, unknown> => labObject(ns, name, profileName, spec);
const getLab = (name: string): Promise<Lab> => getLabIn(ns, name);
const getObj = (kind: string, name: string): Promise<Full | undefined> => getObjectIn<Full>(ns, kind, name);
const eventNames = (involved: string, reason: string): Promise<string[]> =>
  eventNamesIn(ns, involved, reason);
const cond = condOf;
const waitPhase = (name: string, phase: string, timeoutMs?: number): Promise<Lab> =>
  waitPhaseIn(ns, name, phase, timeoutMs);

function dumpOnFailure(): void {
  onTestFailed(async () => {
    console.error(await dumpDiagnostics(ns, [op.logFile]));
    console.error(
      await kubectl(['get', 'notebooklabs', '-n', ns, '-o', 'yaml']).catch((e: unknown) => String(e)),
    );
  });
}

/** Waits for `name` to be Failed with Degraded=NameConflict and returns the condition's message. */
async function waitConflict(name: string): Promise<string> {
  const l = await waitPhase(name, 'Failed', 30_000);
  const d = cond(l, 'Degraded');
  expect(d).toMatchObject({ status: 'True', reason: 'NameConflict' });
  return d?.message ?? '';
}

interface Squatter {
  kind: string;
  name: string;
  obj: Record<string, unknown>;
}

/**
 * One squatter per child kind, by lab name, none with our label and controller reference (the NetworkPolicy copies
 * our managed-by label: a label alone is not ownership; the claim our owner label).
 */
function squatterTable(): Record<string, Squatter> {
  const restricted = {
    runAsNonRoot: true,
    runAsUser: 1000,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  return {
    svc: {
      kind: 'Service',
      name: 'svc-lab',
      obj: { apiVersion: 'v1', kind: 'Service', spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    },
    tok: {
      kind: 'Secret',
      name: 'tok-token',
      obj: { apiVersion: 'v1', kind: 'Secret', stringData: { token: 'known-to-the-squatter' } },
    },
    np: {
      kind: 'NetworkPolicy',
      name: 'np-lab',
      obj: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'skyport-operator' } },
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] },
      },
    },
    pod: {
      kind: 'Pod',
      name: 'pod-lab',
      obj: {
        apiVersion: 'v1',
        kind: 'Pod',
        spec: {
          securityContext: restricted,
          containers: [
            {
              name: 'c',
              image: 'example.org/other:1',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
    pvc: {
      kind: 'PersistentVolumeClaim',
      name: 'pvc-home',
      obj: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { labels: { 'skyport.io/owner': 'alice' } },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    },
  };
}

/** The squatter is as it was: same object, labels and owners; nobody else writes a Service, Secret or policy. */
async function expectUntouched(s: Squatter, was: Full | undefined): Promise<void> {
  const now = await getObj(s.kind, s.name);
  const { uid, labels, annotations, ownerReferences } = now?.metadata ?? {};
  expect({ uid, labels, ownerReferences }, `${s.kind} ${s.name} untouched`).toEqual({
    uid: was?.metadata.uid,
    labels: was?.metadata.labels,
    ownerReferences: was?.metadata.ownerReferences,
  });
  // Pods and claims get status (and a claim its volume) from their controllers.
  if (s.kind === 'Pod' || s.kind === 'PersistentVolumeClaim') return;
  expect(now?.metadata.resourceVersion).toBe(was?.metadata.resourceVersion);
  expect(annotations).toEqual(was?.metadata.annotations);
  expect(now?.spec ?? now?.data).toEqual(was?.spec ?? was?.data);
}

beforeAll(async () => {
  const kubeconfig = await installChartOnce();
  activity = await startActivityServer();
  op = await startOperator({
    kubeconfig,
    identity: `${run}-op`,
    args: [`--lease-name=${run}`],
    env: { SKYPORT_ACTIVITY_URL_TEMPLATE: activity.urlTemplate, SKYPORT_HOME_BIND_TIMEOUT: '20s' },
  });
  ns = await createNamespace('nbown');
  await apply(profile(P.retain));
  await apply(profile(P.del, { home: { size: '1Gi', retainPolicy: 'Delete' } }));
  await apply(profile(P.one, { quota: { maxLabs: 1, maxTotalHomeSize: '1Gi' } }));
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 30_000,
    description: 'operator ready',
  });
});

afterAll(async () => {
  await op?.stop();
  await activity?.close();
  if (ns !== '' && process.env['SKYPORT_E2E_KEEP'] !== '1') await deleteNamespace(ns);
  for (const p of Object.values(P))
    await kubectl(['delete', 'notebookprofile', p, '--ignore-not-found', '--wait=false']).catch(
      () => undefined,
    );
});

describe('objects the lab did not make', () => {
  it('a retained home goes back only to its owner: another owner is refused and nothing of the home changes', async () => {
    dumpOnFailure();
    await apply(lab('keep', P.retain, { owner: 'lc' }));
    await waitPhase('keep', 'Running');
    await kubectl(['delete', 'notebooklab', 'keep', '-n', ns, '--wait=true', '--timeout=60s']);
    const home = await getObj('pvc', 'keep-home');
    expect(home?.metadata.labels?.['skyport.io/owner']).toBe('lc');

    // mallory's profile deletes homes with their lab: deleting her lab must not delete lc's home either.
    await apply(lab('keep', P.del, { owner: 'mallory' }));
    const message = await waitConflict('keep');
    expect(message).toMatch(
      /^PersistentVolumeClaim keep-home already exists and is another owner's retained home/,
    );
    expect(message).not.toContain('lc');
    const refused = await getLab('keep');
    expect(refused.status?.homeClaimName).toBeUndefined();
    expect(await getObj('pod', 'keep-lab')).toBeUndefined();
    expect(await eventNames('keep', 'NameConflict')).toHaveLength(1);
    expect(await getObj('pvc', 'keep-home')).toEqual(home);

    await kubectl(['delete', 'notebooklab', 'keep', '-n', ns, '--wait=true', '--timeout=60s']);
    expect(await getObj('pvc', 'keep-home')).toEqual(home);

    // The same owner with the same profile gets it back.
    await apply(lab('keep', P.retain, { owner: 'lc' }));
    const back = await waitPhase('keep', 'Running');
    expect(back.status?.homeClaimName).toBe('keep-home');
    expect((await getObj('pvc', 'keep-home'))?.metadata.uid).toBe(home?.metadata.uid);
  });

  it('refuses every child name held by an object it did not make, changes none of them, and recovers once it goes', async () => {
    dumpOnFailure();
    const squatters = squatterTable();
    const before: Record<string, Full | undefined> = {};
    for (const [labName, s] of Object.entries(squatters)) {
      const meta = (s.obj['metadata'] ?? {}) as Record<string, unknown>;
      await kubectl(['create', '-f', '-'], {
        input: JSON.stringify({ ...s.obj, metadata: { ...meta, name: s.name, namespace: ns } }),
      });
      before[labName] = await getObj(s.kind, s.name);
    }
    for (const labName of Object.keys(squatters)) await apply(lab(labName, P.retain));
    for (const [labName, s] of Object.entries(squatters)) {
      const message = await waitConflict(labName);
      expect(message).toMatch(
        new RegExp(`^${s.kind} ${s.name} already exists and (was not created by skyport|has no controller)`),
      );
      expect(message).toMatch(/Hint: /);
      expect(await eventNames(labName, 'NameConflict'), `${labName}: one Warning Event`).toHaveLength(1);
    }
    // Nothing was written before the conflict was found: no home claim provisioned for a refused lab.
    expect(await getObj('pvc', 'svc-home')).toBeUndefined();
    expect(await getObj('secret', 'svc-token')).toBeUndefined();
    for (const [labName, s] of Object.entries(squatters)) await expectUntouched(s, before[labName]);
    // Not retried hot (item 3: a Secret's 409 was retried forever, logged only as Conflict).
    expect(op.log()).not.toMatch(/"name":"tok".*Reconcile failed/);

    // The squatters go: each lab starts on its own (the conflict is looked at again, not parked).
    for (const s of [squatters['svc'], squatters['tok']]) {
      await kubectl(['delete', s?.kind ?? '', s?.name ?? '', '-n', ns, '--wait=true']);
    }
    await waitPhase('svc', 'Running', 60_000);
    await waitPhase('tok', 'Running', 60_000);
    const svc = await getObj('service', 'svc-lab');
    expect(svc?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'NotebookLab', controller: true });
    const token = Buffer.from(
      (await getObj('secret', 'tok-token'))?.data?.['token'] ?? '',
      'base64',
    ).toString();
    expect(token).toMatch(/^[0-9a-f]{48}$/);

    // Deleting a lab in conflict leaves the squatters alone (its finalizer deleted a Pod by name).
    for (const labName of ['pod', 'pvc'])
      await kubectl(['delete', 'notebooklab', labName, '-n', ns, '--wait=true', '--timeout=60s']);
    await expectUntouched(squatters['pod']!, before['pod']);
    await expectUntouched(squatters['pvc']!, before['pvc']);
    expect((await getObj('pod', 'pod-lab'))?.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('quota counting and status truth', () => {
  it('a lab the profile refuses (InvalidSpec) and that holds nothing does not count against maxLabs', async () => {
    dumpOnFailure();
    await apply(lab('typo', P.one, { size: 'smal' }));
    const typo = await waitPhase('typo', 'Failed');
    expect(cond(typo, 'Degraded')).toMatchObject({ reason: 'InvalidSpec' });
    await apply(lab('valid', P.one));
    const l = await waitPhase('valid', 'Running');
    expect(cond(l, 'Degraded')).toMatchObject({ status: 'False' });
    // Fixing the older lab does not stop the running one: it holds nothing, so it waits its turn.
    await kubectl([
      'patch',
      'notebooklab',
      'typo',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"size":"small"}}',
    ]);
    await eventually(async () => cond(await getLab('typo'), 'Degraded')?.reason === 'QuotaExceeded', {
      timeoutMs: 30_000,
      description: 'typo refused by the quota',
    });
    expect((await getLab('valid')).status?.phase).toBe('Running');
  });

  it('a lab that turns invalid holding nothing frees its slot at once; fixed again, it does not displace the lab that took it', async () => {
    dumpOnFailure();
    // bob's stopped lab (never started: no Pod, no claim) is valid, so it counts: his second lab is refused.
    await apply(lab('bob1', P.one, { owner: 'bob', state: 'Stopped' }));
    await waitPhase('bob1', 'Stopped');
    await apply(lab('bob2', P.one, { owner: 'bob' }));
    const refused = await waitPhase('bob2', 'Failed');
    expect(cond(refused, 'Degraded')).toMatchObject({ reason: 'QuotaExceeded' });
    // bob1 now asks for a size the profile does not offer: it can never hold anything, bob2 starts without waiting
    // for a resync.
    const patch = (spec: Record<string, unknown>): Promise<string> =>
      kubectl(['patch', 'notebooklab', 'bob1', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);
    await patch({ size: 'smal' });
    await waitPhase('bob2', 'Running', 20_000);
    await patch({ size: 'small' });
    await waitPhase('bob1', 'Stopped');
    expect((await getLab('bob2')).status?.phase).toBe('Running');
  });

  it('a lab created Stopped has no home claim and does not claim one is kept', async () => {
    dumpOnFailure();
    await apply(lab('idle', P.retain, { state: 'Stopped' }));
    const l = await waitPhase('idle', 'Stopped');
    expect(l.status?.homeClaimName).toBeUndefined();
    expect(l.status).toMatchObject({ message: 'Lab is stopped' });
    expect(await getObj('pvc', 'idle-home')).toBeUndefined();
    await kubectl([
      'patch',
      'notebooklab',
      'idle',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"state":"Running"}}',
    ]);
    const started = await waitPhase('idle', 'Running');
    expect(started.status?.homeClaimName).toBe('idle-home');
    expect(await getObj('pvc', 'idle-home')).toBeDefined();
  });
});
