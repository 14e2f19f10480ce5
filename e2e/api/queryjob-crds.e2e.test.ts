// The Catalog and QueryJob CRDs on a real kube-apiserver: bad objects and forbidden transitions are refused naming
// the field, and the operator's ajv mirror (operator/src/api/validate.ts) refuses each at the same path.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  kubectl,
  kubectlJson,
  repoRoot,
  ToolError,
  uniqueName,
} from '../cluster/index.js';

interface Validator {
  validate(
    obj: unknown,
    old?: unknown,
  ): { ok: true } | { ok: false; errors: { path: string; message: string }[] };
}
let queryJobValidator: Validator;
let catalogValidator: Validator;
let ns = '';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };

function queryJob(name: string): Obj {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'QueryJob',
    metadata: { name, namespace: ns },
    spec: { owner: 'alice', catalogRef: { name: 'desdr' }, query: 'SELECT ra FROM des_sample' },
  };
}

function catalog(name: string): Obj {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'Catalog',
    metadata: { name },
    spec: {
      database: { host: 'db', database: 'des', credentials: { secretName: 'des-reader' } },
      results: { claimName: 'query-results' },
    },
  };
}

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

beforeAll(async () => {
  const api = (await import(pathToFileURL(join(repoRoot, 'operator/src/api/validate.ts')).href)) as {
    queryJobValidator: Validator;
    catalogValidator: Validator;
  };
  queryJobValidator = api.queryJobValidator;
  catalogValidator = api.catalogValidator;
  await kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(repoRoot, 'crds', 'queryjobs.skyport.io.yaml'),
    '-f',
    join(repoRoot, 'crds', 'catalogs.skyport.io.yaml'),
  ]);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/queryjobs.skyport.io',
    'crd/catalogs.skyport.io',
  ]);
  ns = await createNamespace('qjapi');
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('QueryJob and Catalog: the apiserver and ajv refuse the same fields', () => {
  const qjCases: { title: string; mutate: (o: Obj) => void; message: RegExp; path: string }[] = [
    {
      title: 'unknown format',
      mutate: (o) => (o.spec.output = { format: 'xlsx' }),
      message: /spec\.output\.format: Unsupported value: "xlsx"/,
      path: 'spec.output.format',
    },
    {
      title: 'gzip with parquet',
      mutate: (o) => (o.spec.output = { format: 'parquet', compression: 'gzip' }),
      message: /spec\.output\.compression: Invalid value: .*gzip compression is not available for parquet/,
      path: 'spec.output.compression',
    },
    {
      title: 'phase not a UWS action',
      mutate: (o) => (o.spec.phase = 'SUSPEND'),
      message: /spec\.phase: Unsupported value: "SUSPEND"/,
      path: 'spec.phase',
    },
    {
      title: 'missing catalogRef',
      mutate: (o) => delete o.spec.catalogRef,
      message: /spec\.catalogRef: Required value/,
      path: 'spec.catalogRef',
    },
    {
      title: 'maxRecords 0',
      mutate: (o) => (o.spec.maxRecords = 0),
      message: /spec\.maxRecords: Invalid value: 0/,
      path: 'spec.maxRecords',
    },
    {
      title: 'executionDuration not a duration',
      mutate: (o) => (o.spec.executionDuration = '2 days'),
      message: /spec\.executionDuration: Invalid value: "2 days"/,
      path: 'spec.executionDuration',
    },
    ...(
      [
        ['ftp scheme', 'ftp://hooks.example.org/x', /must be an absolute http or https URL/],
        ['not a URL', 'hooks.example.org/x', /must be an absolute http or https URL/],
        ['credentials', 'https://user:pw@hooks.example.org/x', /must not carry credentials/],
        ['instance metadata', 'http://169.254.169.254/latest', /link-local \(instance metadata\)/],
        ['IPv6 link-local', 'https://[fe80::1]/x', /link-local \(instance metadata\)/],
        ['unspecified', 'https://0.0.0.0/x', /link-local \(instance metadata\) or unspecified/],
        ['AWS IPv6 metadata', 'http://[fd00:ec2::254]/x', /link-local \(instance metadata\)/],
        ['IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/x', /must not be an IPv4-mapped address/],
      ] as const
    ).map(([title, url, message]) => ({
      title: `notify webhook: ${title}`,
      mutate: (o: Obj) => (o.spec.notify = { webhook: { url } }),
      message: new RegExp(`spec\\.notify\\.webhook\\.url: Invalid value: .*${message.source}`),
      path: 'spec.notify.webhook.url',
    })),
    {
      title: 'name too long for the Job name',
      mutate: (o) => (o.metadata.name = 'x'.repeat(53)),
      message: /metadata\.name: Too long/,
      path: 'metadata.name',
    },
  ];
  for (const c of qjCases) {
    it(`QueryJob: ${c.title}`, async () => {
      const obj = queryJob(uniqueName('bad'));
      c.mutate(obj);
      expect(await rejection(obj)).toMatch(c.message);
      expect(ajvPaths(queryJobValidator, obj)).toContain(c.path);
    });
  }

  it('QueryJob: a public https webhook, and a loopback one (the operator decides on loopback), are accepted', async () => {
    for (const url of ['https://hooks.example.org/skyport?x=1', 'http://127.0.0.1:8080/hook']) {
      const obj = queryJob(uniqueName('hook'));
      obj.spec.notify = { webhook: { url, secretRef: { name: 'hook-key' } } };
      await kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
      expect(ajvPaths(queryJobValidator, obj)).toEqual([]);
      const stored = await kubectlJson<Obj>(['get', 'queryjob', obj.metadata.name as string, '-n', ns]);
      expect(stored.spec.notify).toEqual({
        webhook: { url, secretRef: { name: 'hook-key', key: 'secret' } },
      });
    }
  });

  const catCases: { title: string; mutate: (o: Obj) => void; message: RegExp; path: string }[] = [
    {
      title: 'default duration over the maximum',
      mutate: (o) => (o.spec.limits = { defaultExecutionDuration: '2h', maxExecutionDuration: '1h' }),
      message:
        /spec\.limits\.defaultExecutionDuration: Invalid value: .*must not exceed maxExecutionDuration/,
      path: 'spec.limits.defaultExecutionDuration',
    },
    {
      title: 'retention under a minute',
      mutate: (o) => (o.spec.retention = { destruction: '30s' }),
      message: /spec\.retention\.destruction: Invalid value: .*must be at least 1m/,
      path: 'spec.retention.destruction',
    },
    {
      title: 'missing host',
      mutate: (o) => delete (o.spec.database as Record<string, unknown>).host,
      message: /spec\.database\.host: Required value/,
      path: 'spec.database.host',
    },
    {
      title: 'both a results claim and a bucket',
      mutate: (o) =>
        (o.spec.results = {
          claimName: 'query-results',
          s3: {
            endpoint: 'https://s3.example.org',
            bucket: 'des-results',
            credentialsSecretRef: { name: 's3' },
          },
        }),
      message: /spec\.results: Invalid value: .*exactly one of claimName and s3 must be set/,
      path: 'spec.results',
    },
    {
      title: 'neither a results claim nor a bucket',
      mutate: (o) => (o.spec.results = {}),
      message: /spec\.results: Invalid value: .*exactly one of claimName and s3 must be set/,
      path: 'spec.results',
    },
    {
      title: 'a bucket prefix with a .. segment',
      mutate: (o) =>
        (o.spec.results = {
          s3: {
            endpoint: 'https://s3.example.org',
            bucket: 'des-results',
            prefix: 'a/../b',
            credentialsSecretRef: { name: 's3' },
          },
        }),
      message: /spec\.results\.s3\.prefix: Invalid value: .*must not contain/,
      path: 'spec.results.s3.prefix',
    },
    {
      title: 'a bucket endpoint with a path',
      mutate: (o) =>
        (o.spec.results = {
          s3: {
            endpoint: 'https://s3.example.org/des',
            bucket: 'des-results',
            credentialsSecretRef: { name: 's3' },
          },
        }),
      message: /spec\.results\.s3\.endpoint: Invalid value/,
      path: 'spec.results.s3.endpoint',
    },
  ];
  for (const c of catCases) {
    it(`Catalog: ${c.title}`, async () => {
      const obj = catalog(uniqueName('bad'));
      c.mutate(obj);
      expect(await rejection(obj)).toMatch(c.message);
      expect(ajvPaths(catalogValidator, obj)).toContain(c.path);
    });
  }

  it('owner is immutable, ABORT is final, the query changes only while PENDING', async () => {
    const name = uniqueName('imm');
    const created = queryJob(name);
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(created) });
    const stored = await kubectlJson<Obj>(['get', 'queryjob', name, '-n', ns]);
    const patch = (spec: Record<string, unknown>) =>
      kubectl(['patch', 'queryjob', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);
    await expect(patch({ owner: 'bob' })).rejects.toThrow(
      /spec\.owner: Invalid value: "bob": owner is immutable/,
    );
    expect(
      ajvPaths(queryJobValidator, { ...stored, spec: { ...stored.spec, owner: 'bob' } }, stored),
    ).toContain('spec.owner');
    await patch({ query: 'SELECT dec FROM des_sample' }); // PENDING: allowed
    await patch({ phase: 'RUN' });
    const running = await kubectlJson<Obj>(['get', 'queryjob', name, '-n', ns]);
    await expect(patch({ query: 'SELECT 1' })).rejects.toThrow(
      /spec\.query: Invalid value: .*query, language and output can change only while phase is PENDING/,
    );
    expect(
      ajvPaths(queryJobValidator, { ...running, spec: { ...running.spec, query: 'SELECT 1' } }, running),
    ).toContain('spec.query');
    await patch({ phase: 'ABORT' });
    const aborted = await kubectlJson<Obj>(['get', 'queryjob', name, '-n', ns]);
    await expect(patch({ phase: 'RUN' })).rejects.toThrow(
      /spec\.phase: Invalid value: .*an aborted job cannot be started again/,
    );
    expect(
      ajvPaths(queryJobValidator, { ...aborted, spec: { ...aborted.spec, phase: 'RUN' } }, aborted),
    ).toContain('spec.phase');
  });

  it('prints Owner, Catalog, Phase, Rows and Age and lists by short name', async () => {
    const out = await kubectl(['get', 'qj', '-n', ns]);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+OWNER\s+CATALOG\s+PHASE\s+ROWS\s+AGE\s*$/);
  });
});
