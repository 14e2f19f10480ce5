// The Helm chart: lint, render with each ci/ values file, strict values schema, server-side dry run, a real
// `helm install` whose Pods go Ready under kwok, and the RBAC its ServiceAccount really has.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { controllers } from '../../operator/src/controllers/registry.js';
import {
  createNamespace,
  deleteNamespace,
  eventually,
  helm,
  kubeconfigForToken,
  kubectl,
  kubectlJson,
  repoRoot,
  serviceAccountToken,
  uniqueName,
  ToolError,
} from '../cluster/index.js';

const CHART = join(repoRoot, 'charts', 'skyport');
const CI_VALUES = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

async function render(args: string[]): Promise<K8sObject[]> {
  const out = await helm(['template', 'r1', CHART, '--namespace', 'skyport-system', ...args]);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function find(objs: K8sObject[], kind: string): K8sObject | undefined {
  return objs.find((o) => o.kind === kind);
}

interface Container {
  args: string[];
  env: { name: string; value?: string }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  serviceAccountName: string;
  containers: Container[];
}
function podSpec(objs: K8sObject[]): PodSpec {
  const dep = find(objs, 'Deployment') as { spec: { template: { spec: PodSpec } } } | undefined;
  if (dep === undefined) throw new Error('no Deployment rendered');
  return dep.spec.template.spec;
}

async function helmError(args: string[]): Promise<string> {
  try {
    await helm(['template', 'r1', CHART, ...args]);
  } catch (err) {
    if (err instanceof ToolError) return err.stderr;
    throw err;
  }
  throw new Error(`helm template ${args.join(' ')} succeeded`);
}

describe('chart offline', () => {
  it.each(['(defaults)', ...CI_VALUES])('helm lint --strict passes with %s', async (file) => {
    const args = file === '(defaults)' ? [] : ['-f', join(CHART, 'ci', file)];
    expect(await helm(['lint', '--strict', CHART, ...args])).toMatch(
      /1 chart\(s\) linted, 0 chart\(s\) failed/,
    );
  });

  it('renders a restricted-PSS operator with 2 replicas, leader election, probes, SA, RBAC, Service, PDB', async () => {
    const objs = await render([]);
    expect(objs.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    expect(find(objs, 'Deployment')?.spec?.replicas).toBe(2);
    const pod = podSpec(objs);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0]!;
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--leader-elect=true',
        '--lease-name=r1-skyport',
        '--lease-namespace=skyport-system',
        '--namespaces=',
      ]),
    );
    expect(pod.serviceAccountName).toBe('r1-skyport');
    const role = find(objs, 'ClusterRole');
    for (const r of role?.rules ?? [])
      for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) expect(v).not.toContain('*');
    expect(find(objs, 'Role')?.rules).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'],
      },
    ]);
  });

  it('single-replica values: no leader election, no PDB, no ServiceAccount, one namespace', async () => {
    const objs = await render(['-f', join(CHART, 'ci', 'single-replica-values.yaml')]);
    expect(find(objs, 'PodDisruptionBudget')).toBeUndefined();
    expect(find(objs, 'ServiceAccount')).toBeUndefined();
    expect(find(objs, 'Service')).toBeUndefined();
    const pod = podSpec(objs);
    expect(pod.serviceAccountName).toBe('skyport-existing');
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining(['--leader-elect=false', '--namespaces=nb-alice', '--workers=4']),
    );
  });

  it('sample-profile values: renders the NotebookProfile with the given spec', async () => {
    const objs = await render(['-f', join(CHART, 'ci', 'sample-profile-values.yaml')]);
    const p = find(objs, 'NotebookProfile');
    expect(p?.metadata.name).toBe('des-jupyterlab');
    expect(p?.spec).toMatchObject({ defaultSize: 'small', home: { size: '20Gi', retainPolicy: 'Delete' } });
    expect(find(objs, 'Deployment')?.metadata.name).toBe('skyport');
  });

  it('controllers.<name>: settings become env, enabled: false leaves the controller out of --controllers', async () => {
    const env = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    const on = podSpec(await render(['--set', 'controllers.notebooklab.cullCheckInterval=5s']))
      .containers[0]!;
    const names = controllers.map((c) => c.name);
    expect(names).toContain('notebooklab');
    expect(on.args).toContain(`--controllers=${names.join(',')}`);
    expect(env(on)).toMatchObject({
      SKYPORT_CULL_CHECK_INTERVAL: '5s',
      SKYPORT_HOME_BIND_TIMEOUT: '60s',
      SKYPORT_ACTIVITY_URL_TEMPLATE: '',
      SKYPORT_POD_ANNOTATION_PREFIXES: '',
    });
    const prefixes = podSpec(
      await render(['--set', 'controllers.notebooklab.podAnnotationPrefixes={a.io/,b.io/}']),
    ).containers[0]!;
    expect(env(prefixes)['SKYPORT_POD_ANNOTATION_PREFIXES']).toBe('a.io/,b.io/');
    const off = podSpec(await render(['--set', 'controllers.notebooklab.enabled=false'])).containers[0]!;
    expect(off.args.filter((a) => a.startsWith('--controllers'))).toEqual([
      `--controllers=${names.filter((n) => n !== 'notebooklab').join(',')}`,
    ]);
    // The switched-off controller's settings are gone; every other controller's stay.
    const envOf = (name: string): string[] =>
      Object.values(controllers.find((c) => c.name === name)?.settings ?? {}).map((st) => st.env);
    const offEnv = Object.keys(env(off));
    expect(envOf('notebooklab').length).toBeGreaterThan(0);
    expect(offEnv.filter((k) => envOf('notebooklab').includes(k))).toEqual([]);
    for (const other of names.filter((n) => n !== 'notebooklab'))
      for (const k of envOf(other)) expect(offEnv, other).toContain(k);
    const allOff = names.flatMap((n) => ['--set', `controllers.${n}.enabled=false`]);
    const none = podSpec(await render(allOff)).containers[0]!;
    expect(none.args.filter((a) => a.startsWith('--controllers'))).toEqual(['--controllers=']);
    // A switched-off controller's RBAC is not granted; the runtime's (Events) always is.
    const granted = async (args: string[]) =>
      (find(await render(args), 'ClusterRole')?.rules ?? []).flatMap((r) =>
        r.resources.map((res) => `${r.apiGroups[0] ?? ''}/${res}`),
      );
    const withoutLabs = await granted(['--set', 'controllers.notebooklab.enabled=false']);
    expect(withoutLabs).toContain('skyport.io/notebookprofiles/status');
    // Only labs use claims and StorageClasses; Pods stay (the Job-running controllers read them).
    expect(withoutLabs).not.toContain('/persistentvolumeclaims');
    expect(withoutLabs).not.toContain('storage.k8s.io/storageclasses');
    expect(withoutLabs).toContain('/pods');
    expect(withoutLabs).not.toContain('skyport.io/notebooklabs');
    expect(await granted(allOff)).toEqual(['/events', 'events.k8s.io/events']);
    expect(await granted([])).toContain('/pods');
    expect(await helmError(['--set', 'controllers.notebooklab.cullCheckInterval=soon'])).toContain(
      "at '/controllers/notebooklab/cullCheckInterval'",
    );
    expect(
      await helmError(['--set', 'controllers.notebooklab.podAnnotationPrefixes={skyport.io/x}']),
    ).toContain("at '/controllers/notebooklab/podAnnotationPrefixes/0'");
    expect(await helmError(['--set', 'controllers.notebooklab.colour=red'])).toMatch(
      /additional properties 'colour' not allowed/,
    );
  });

  it('values.schema.json rejects bad values, naming the key', async () => {
    expect(await helmError(['--set', 'replicaCount=0'])).toContain("at '/replicaCount'");
    expect(await helmError(['--set', 'replicaCount=two'])).toContain("at '/replicaCount'");
    expect(await helmError(['--set', 'operatr.workers=2'])).toMatch(
      /additional properties 'operatr' not allowed/,
    );
    expect(await helmError(['--set', 'operator.logLevel=loud'])).toContain("at '/operator/logLevel'");
    expect(
      await helmError([
        '--set',
        'sampleProfile.enabled=true',
        '--set',
        'sampleProfile.spec.home.retainPolicy=Sometimes',
      ]),
    ).toContain("at '/sampleProfile/spec/home/retainPolicy'");
    expect(
      await helmError(['--set', 'sampleProfile.enabled=true', '--set', 'sampleProfile.spec.sizes=null']),
    ).toContain("at '/sampleProfile/spec");
  });
});

describe('chart on the local cluster', () => {
  let ns: string;
  let release: string;
  let profileName: string;
  let labNs: string;

  beforeAll(async () => {
    ns = await createNamespace('chart');
    labNs = await createNamespace('chart-labs');
    release = uniqueName('sky');
    profileName = uniqueName('sample');
  });

  afterAll(async () => {
    if (release)
      await helm(['uninstall', release, '-n', ns, '--wait', '--timeout', '60s']).catch(() => undefined);
    if (ns) await deleteNamespace(ns);
    if (labNs) await deleteNamespace(labNs);
  });

  it('passes a server-side dry run, including the sample profile against the CRD schema', async () => {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(CHART, 'crds')]);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/notebookprofiles.skyport.io',
    ]);
    const manifest = await helm([
      'template',
      'dry',
      CHART,
      '-n',
      ns,
      '-f',
      join(CHART, 'ci', 'sample-profile-values.yaml'),
      '--set',
      `sampleProfile.name=${profileName}-dry`,
    ]);
    const out = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], { input: manifest });
    expect(out).toContain(`notebookprofile.skyport.io/${profileName}-dry created (server dry run)`);
    expect(out).toContain('deployment.apps/skyport created (server dry run)');
  });

  it('helm install succeeds and both operator Pods go Ready', async () => {
    await helm(
      [
        'install',
        release,
        CHART,
        '-n',
        ns,
        '--wait',
        '--timeout',
        '150s',
        '--set',
        'sampleProfile.enabled=true',
        '--set',
        `sampleProfile.name=${profileName}`,
      ],
      { timeoutMs: 170_000 },
    );
    const dep = await kubectlJson<{ status: { readyReplicas?: number; replicas?: number } }>([
      'get',
      'deployment',
      `${release}-skyport`,
      '-n',
      ns,
    ]);
    expect(dep.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
    const pods = await kubectlJson<{
      items: { status: { conditions?: { type: string; status: string }[] } }[];
    }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`]);
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items)
      expect(p.status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    // The sample profile went through the apiserver's defaulting.
    const profile = await kubectlJson<{ spec: { culling: { idleTimeout: string } } }>([
      'get',
      'notebookprofile',
      profileName,
    ]);
    expect(profile.spec.culling.idleTimeout).toBe('24h');
    const pdb = await kubectlJson<{ spec: { maxUnavailable: number } }>([
      'get',
      'pdb',
      `${release}-skyport`,
      '-n',
      ns,
    ]);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('the ServiceAccount has exactly the generated rules: everything rendered is allowed, nothing else', async () => {
    const sa = `system:serviceaccount:${ns}:${release}-skyport`;
    const canI = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
      const where = namespace === undefined ? ['--all-namespaces'] : ['-n', namespace];
      // `can-i VERB TYPE/NAME` reads what follows a slash as an object name: a subresource goes in --subresource.
      const [type = resource, sub] = resource.split('/');
      const subresource = sub === undefined ? [] : [`--subresource=${sub}`];
      try {
        return (
          (await kubectl(['auth', 'can-i', verb, type, ...subresource, `--as=${sa}`, ...where])).trim() ===
          'yes'
        );
      } catch (err) {
        if (err instanceof ToolError && err.stdout.trim() === 'no') return false;
        throw err;
      }
    };
    const rendered = await helm(['get', 'manifest', release, '-n', ns]);
    const objs = parseAllDocuments(rendered).map((d) => d.toJS() as K8sObject | null);
    const clusterRole = objs.find((o) => o?.kind === 'ClusterRole');
    const checks: Promise<[string, boolean]>[] = [];
    for (const r of clusterRole?.rules ?? []) {
      for (const res of r.resources) {
        const qualified =
          r.apiGroups[0] === ''
            ? res
            : `${res.split('/')[0]}.${r.apiGroups[0]}${res.includes('/') ? `/${res.split('/')[1]}` : ''}`;
        for (const verb of r.verbs)
          checks.push(canI(verb, qualified).then((ok) => [`${verb} ${qualified}`, ok]));
      }
    }
    const results = await Promise.all(checks);
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter(([, ok]) => !ok)).toEqual([]);
    // Not granted: cluster-wide writes outside the operator's business, other namespaces' Leases, profiles.
    expect(await canI('update', 'leases.coordination.k8s.io', ns)).toBe(true);
    expect(await canI('update', 'leases.coordination.k8s.io', 'kube-system')).toBe(false);
    // ConfigMaps: CutoutJobs read and create them (position lists), never change or delete one.
    expect(await canI('get', 'configmaps')).toBe(true);
    expect(await canI('update', 'configmaps')).toBe(false);
    expect(await canI('delete', 'configmaps')).toBe(false);
    expect(await canI('create', 'clusterrolebindings.rbac.authorization.k8s.io')).toBe(false);
    expect(await canI('delete', 'customresourcedefinitions.apiextensions.k8s.io')).toBe(false);
    expect(await canI('update', 'notebookprofiles.skyport.io')).toBe(false);
    expect(await canI('delete', 'notebooklabs.skyport.io')).toBe(false);
    expect(await canI('list', 'nodes')).toBe(false);
    // Deployments and StatefulSets are AnomalyService children; nothing the operator makes is a DaemonSet.
    expect(await canI('create', 'daemonsets.apps', labNs)).toBe(false);
  });

  it('a token for the ServiceAccount lists NotebookLabs and patches their status, but cannot delete ConfigMaps', async () => {
    const lab = {
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookLab',
      metadata: { name: 'default', namespace: labNs },
      spec: { owner: 'alice', profile: profileName },
    };
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(lab) });
    const token = await serviceAccountToken(ns, `${release}-skyport`);
    const asOperator = { kubeconfig: kubeconfigForToken(token) };
    const list = await kubectlJson<{ items: { metadata: { name: string; namespace: string } }[] }>(
      ['get', 'notebooklabs', '--all-namespaces'],
      asOperator,
    );
    expect(list.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toContain(`${labNs}/default`);
    await kubectl(
      [
        'patch',
        'notebooklab',
        'default',
        '-n',
        labNs,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Pending"}}',
      ],
      asOperator,
    );
    await eventually(
      async () =>
        (await kubectlJson<{ status?: { phase?: string } }>(['get', 'nblab', 'default', '-n', labNs])).status
          ?.phase === 'Pending',
    );
    await expect(
      kubectl(['delete', 'configmap', 'kube-root-ca.crt', '-n', labNs], asOperator),
    ).rejects.toThrow(/forbidden/);
    await expect(kubectl(['delete', 'notebookprofile', profileName], asOperator)).rejects.toThrow(
      /forbidden/,
    );
  });

  it('helm uninstall removes the operator but keeps the CRDs (and so every lab)', async () => {
    await helm(['uninstall', release, '-n', ns, '--wait', '--timeout', '60s']);
    release = '';
    await eventually(
      async () => (await kubectl(['get', 'deployments', '-n', ns, '-o', 'name'])).trim() === '',
    );
    expect(await kubectl(['get', 'crd', 'notebooklabs.skyport.io', '-o', 'name'])).toContain(
      'notebooklabs.skyport.io',
    );
    expect(await kubectl(['get', 'nblab', 'default', '-n', labNs, '-o', 'name'])).toContain('default');
  });
});
