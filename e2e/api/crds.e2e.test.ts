// The generated CRDs on a real kube-apiserver: they apply, explain themselves, default, and reject bad
// objects with messages naming the field — and the operator's ajv validator agrees on each rejection.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  eventually,
  kubectl,
  kubectlJson,
  repoRoot,
  uniqueName,
  ToolError,
} from '../cluster/index.js';

const CRDS = ['notebooklabs.skyport.io', 'notebookprofiles.skyport.io'];

// The validator lives in the operator workspace; a dynamic import keeps e2e's tsconfig free of it.
interface Validator {
  validate(
    obj: unknown,
    old?: unknown,
  ): { ok: true } | { ok: false; errors: { path: string; message: string }[] };
}
let labValidator: Validator;
let profileValidator: Validator;

type Obj = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };

function profile(name: string): Obj {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookProfile',
    metadata: { name },
    spec: {
      images: {
        aliases: [{ name: 'recommended', image: 'registry.example.org/des/lab:2026.07' }],
        defaultAlias: 'recommended',
      },
      sizes: [
        { name: 'small', requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: 1, memory: '2Gi' } },
        { name: 'large', requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } },
      ],
      defaultSize: 'small',
    },
  };
}

function lab(name: string, namespace: string, profileName: string): Obj {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: { name, namespace },
    spec: { owner: 'alice', profile: profileName, imageAlias: 'recommended', size: 'small' },
  };
}

/** Sets `value` at a dotted path with indices (`sizes[0].requests.cpu`), creating objects on the way. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(/[.[\]]/).filter((p) => p !== '');
  let node: Record<string, unknown> = root;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Creates the object and resolves with the apiserver's error text, or throws if it was accepted. */
async function rejection(obj: unknown): Promise<string> {
  try {
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
  } catch (err) {
    if (err instanceof ToolError) return err.stderr;
    throw err;
  }
  throw new Error(`the apiserver accepted ${JSON.stringify(obj)}`);
}

function ajvPaths(v: Validator, obj: unknown, old?: unknown): string[] {
  const r = v.validate(obj, old);
  return r.ok ? [] : r.errors.map((e) => e.path);
}

let ns: string;
let profileName: string;

beforeAll(async () => {
  const api = (await import(pathToFileURL(join(repoRoot, 'operator/src/api/validate.ts')).href)) as {
    notebookLabValidator: Validator;
    notebookProfileValidator: Validator;
  };
  labValidator = api.notebookLabValidator;
  profileValidator = api.notebookProfileValidator;
  // --force-conflicts: the chart's e2e may have created the CRDs first through Helm's field manager.
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'crds')]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...CRDS.map((c) => `crd/${c}`)]);
  ns = await createNamespace('api');
  profileName = uniqueName('prof');
  await kubectl(['create', '-f', '-'], { input: JSON.stringify(profile(profileName)) });
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
  if (profileName) await kubectl(['delete', 'notebookprofile', profileName, '--ignore-not-found']);
});

describe('CRDs', () => {
  it('are Established with names, short names, categories and the status subresource', async () => {
    const crd = await kubectlJson<{
      spec: Record<string, unknown> & {
        names: Record<string, unknown>;
        versions: { subresources?: unknown }[];
      };
    }>(['get', 'crd', 'notebooklabs.skyport.io']);
    expect(crd.spec.names).toMatchObject({
      kind: 'NotebookLab',
      shortNames: ['nblab', 'lab'],
      categories: ['skyport', 'astro'],
    });
    expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
    const profileCrd = await kubectlJson<{ spec: { scope: string } }>([
      'get',
      'crd',
      'notebookprofiles.skyport.io',
    ]);
    expect(profileCrd.spec.scope).toBe('Cluster');
  });

  it('kubectl explain shows the field descriptions from the typed source', async () => {
    const out = await eventually(() => kubectl(['explain', 'notebooklab.spec.owner']), {
      description: 'explain after discovery',
    });
    expect(out).toContain('Username of the scientist who owns the lab');
    expect(await kubectl(['explain', 'notebookprofile.spec.home.retainPolicy'])).toMatch(
      /Retain keeps it[\s\S]*Delete removes it/,
    );
    expect(await kubectl(['explain', 'notebooklab.status.phase'])).toContain(
      'Pending, Starting, Running, Stopping, Stopped or Failed',
    );
  });

  it('applies schema defaults to a lab and a profile', async () => {
    const name = uniqueName('lab');
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(lab(name, ns, profileName)) });
    const got = await kubectlJson<{ spec: Record<string, unknown> }>(['get', 'nblab', name, '-n', ns]);
    expect(got.spec.state).toBe('Running');
    const p = await kubectlJson<{ spec: Record<string, Record<string, unknown>> }>([
      'get',
      'nbprofile',
      profileName,
    ]);
    expect(p.spec.culling).toEqual({
      enabled: true,
      idleTimeout: '24h',
      maxLifetime: '168h',
      warnBefore: '30m',
    });
    expect(p.spec.home).toMatchObject({ size: '10Gi', retainPolicy: 'Retain', mountPath: '/home/jovyan' });
    expect(p.spec.quota).toEqual({ maxLabs: 2 });
  });

  it('prints Owner, Profile, Phase, URL and Age columns and lists by short name and category', async () => {
    const name = uniqueName('cols');
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(lab(name, ns, profileName)) });
    const out = await kubectl(['get', 'lab', name, '-n', ns]);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+OWNER\s+PROFILE\s+PHASE\s+URL\s+AGE\s*$/);
    expect(out).toContain(profileName);
    expect(await kubectl(['get', 'skyport', '-n', ns, '-o', 'name'])).toContain(
      `notebooklab.skyport.io/${name}`,
    );
  });
});

describe('the apiserver rejects invalid objects naming the field, and ajv agrees', () => {
  const labCases: { title: string; mutate: (o: Obj) => void; message: RegExp; path: string }[] = [
    {
      title: 'bad enum',
      mutate: (o) => (o.spec.state = 'Paused'),
      message: /spec\.state: Unsupported value: "Paused"/,
      path: 'spec.state',
    },
    {
      title: 'missing owner',
      mutate: (o) => delete o.spec.owner,
      message: /spec\.owner: Required value/,
      path: 'spec.owner',
    },
    {
      title: 'both image and imageAlias',
      mutate: (o) => (o.spec.image = 'registry.example.org/me/lab:1'),
      message: /spec\.image: Forbidden: image and imageAlias are mutually exclusive/,
      path: 'spec.image',
    },
    {
      title: 'env with value and valueFrom',
      mutate: (o) =>
        (o.spec.env = [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]),
      message: /spec\.env\[0\]: Invalid value: .*exactly one of value and valueFrom must be set/,
      path: 'spec.env[0]',
    },
    {
      title: 'owner not a label value',
      mutate: (o) => (o.spec.owner = 'alice@example.org'),
      message: /spec\.owner: Invalid value: "alice@example.org"/,
      path: 'spec.owner',
    },
    {
      title: 'name too long for child names',
      mutate: (o) => (o.metadata.name = 'x'.repeat(51)),
      message: /metadata\.name: Too long/,
      path: 'metadata.name',
    },
  ];

  for (const c of labCases) {
    it(`NotebookLab: ${c.title}`, async () => {
      const obj = lab(uniqueName('bad'), ns, profileName);
      c.mutate(obj);
      expect(await rejection(obj)).toMatch(c.message);
      expect(ajvPaths(labValidator, obj)).toContain(c.path);
    });
  }

  const profileCases: { title: string; mutate: (o: Obj) => void; message: RegExp; path: string }[] = [
    {
      title: 'defaultSize naming no size',
      mutate: (o) => (o.spec.defaultSize = 'huge'),
      message: /spec\.defaultSize: Invalid value: .*defaultSize must name one of sizes/,
      path: 'spec.defaultSize',
    },
    {
      title: 'limits below requests (CEL quantity comparison)',
      mutate: (o) =>
        (o.spec.sizes = [
          { name: 'small', requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '1500m', memory: '2Gi' } },
        ]),
      message: /spec\.sizes\[0\]\.limits: Invalid value: .*limits must be at least requests/,
      path: 'spec.sizes[0].limits',
    },
    {
      title: 'warnBefore not shorter than idleTimeout (CEL duration comparison)',
      mutate: (o) => (o.spec.culling = { idleTimeout: '1h', warnBefore: '2h' }),
      message: /spec\.culling\.warnBefore: Invalid value: .*warnBefore must be shorter than idleTimeout/,
      path: 'spec.culling.warnBefore',
    },
    {
      title: 'days in a duration',
      mutate: (o) => (o.spec.culling = { idleTimeout: '7d' }),
      message: /spec\.culling\.idleTimeout: Invalid value: "7d"/,
      path: 'spec.culling.idleTimeout',
    },
    ...(
      [
        ['negative cpu', 'sizes[0].requests.cpu', '-1', /must be from 1m to 1024 cores/],
        [
          'negative memory',
          'sizes[0].requests.memory',
          '-2Gi',
          /must be a whole number of bytes from 1Mi to 64Ti/,
        ],
        ['zero cpu (BestEffort)', 'sizes[0].requests.cpu', '0', /must be from 1m to 1024 cores/],
        ['zero memory (BestEffort)', 'sizes[0].requests.memory', 0, /must be a whole number of bytes/],
        ['absurd cpu limit', 'sizes[0].limits.cpu', '1e100', /must be from 1m to 1024 cores/],
        ['sub-byte memory limit', 'sizes[0].limits.memory', '1n', /must be a whole number of bytes/],
        ['fractional-byte memory', 'sizes[0].requests.memory', '1500m', /must be a whole number of bytes/],
        ['negative home size', 'home.size', '-10Gi', /must be a whole number of bytes from 1Mi to 1Pi/],
        ['zero home size', 'home.size', '0', /must be a whole number of bytes from 1Mi to 1Pi/],
        ['absurd home size', 'home.size', '1e100', /must be a whole number of bytes from 1Mi to 1Pi/],
        ['zero total home quota', 'quota.maxTotalHomeSize', '0', /must be a whole number of bytes/],
      ] as const
    ).map(([title, field, value, why]) => ({
      title: `${title} (CEL quantity bounds)`,
      mutate: (o: Obj) => setPath(o.spec, field, value),
      message: new RegExp(`spec\\.${field.replace(/[.[\]]/g, '\\$&')}: Invalid value: .*${why.source}`),
      path: `spec.${field}`,
    })),
    {
      title: 'home mounted on the scratch space',
      mutate: (o) => (o.spec.home = { mountPath: '/tmp' }),
      message: /spec\.home\.mountPath: Invalid value: .*must not be \/tmp/,
      path: 'spec.home.mountPath',
    },
    {
      title: 'root UID',
      mutate: (o) => (o.spec.security = { runAsUser: 0 }),
      message:
        /spec\.security\.runAsUser: Invalid value: 0: spec\.security\.runAsUser in body should be greater than or equal to 1/,
      path: 'spec.security.runAsUser',
    },
  ];

  for (const c of profileCases) {
    it(`NotebookProfile: ${c.title}`, async () => {
      const obj = profile(uniqueName('badprof'));
      c.mutate(obj);
      expect(await rejection(obj)).toMatch(c.message);
      expect(ajvPaths(profileValidator, obj)).toContain(c.path);
    });
  }

  it('owner and profile are immutable; state may change', async () => {
    const name = uniqueName('imm');
    const created = lab(name, ns, profileName);
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(created) });
    const patch = (spec: Record<string, unknown>) =>
      kubectl(['patch', 'nblab', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);
    await expect(patch({ owner: 'bob' })).rejects.toThrow(
      /spec\.owner: Invalid value: "bob": owner is immutable/,
    );
    await expect(patch({ profile: 'other' })).rejects.toThrow(
      /spec\.profile: Invalid value: "other": profile is immutable/,
    );
    await patch({ state: 'Stopped' });
    const got = await kubectlJson<{ spec: { state: string; owner: string } }>([
      'get',
      'nblab',
      name,
      '-n',
      ns,
    ]);
    expect(got.spec).toMatchObject({ state: 'Stopped', owner: 'alice' });
    // ajv's mirror of the transition rule agrees when given the old object.
    expect(ajvPaths(labValidator, { ...created, spec: { ...created.spec, owner: 'bob' } }, created)).toEqual([
      'spec.owner',
    ]);
  });

  it('status is a subresource: writable only through /status and validated there', async () => {
    const name = uniqueName('st');
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(lab(name, ns, profileName)) });
    const status = { phase: 'Running', url: 'http://lab.example/', observedGeneration: 1 };
    // A status in a main-resource update is ignored (the subresource owns it).
    await kubectl(['patch', 'nblab', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ status })]);
    expect(
      (await kubectlJson<{ status?: unknown }>(['get', 'nblab', name, '-n', ns])).status,
    ).toBeUndefined();
    await kubectl([
      'patch',
      'nblab',
      name,
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    const out = await kubectl(['get', 'nblab', name, '-n', ns, '--no-headers']);
    expect(out).toMatch(new RegExp(`^${name}\\s+alice\\s+${profileName}\\s+Running\\s+http://lab.example/`));
    await expect(
      kubectl([
        'patch',
        'nblab',
        name,
        '-n',
        ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Exploded"}}',
      ]),
    ).rejects.toThrow(/status\.phase: Unsupported value: "Exploded"/);
  });
});
