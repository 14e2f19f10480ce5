// The ajv validators accept the samples, apply schema defaults, and reject bad specs naming the field.
import { describe, expect, it } from 'vitest';
import { sampleLab, sampleProfile } from './v1alpha1/index.js';
import { formatErrors, notebookLabValidator, notebookProfileValidator, toFieldPath } from './validate.js';
import type { FieldError } from './validate.js';

function errorsOf(result: { ok: boolean; errors?: FieldError[] }): FieldError[] {
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors ?? [];
}

describe('toFieldPath', () => {
  it('turns JSON pointers into dotted paths with indices', () => {
    expect(toFieldPath('/spec/env/0/name')).toBe('spec.env[0].name');
    expect(toFieldPath('')).toBe('');
    expect(toFieldPath('/metadata/labels/a~1b')).toBe('metadata.labels.a/b');
  });
});

describe('notebookLabValidator', () => {
  it('accepts the sample and fills in defaults without mutating the input', () => {
    const lab = sampleLab();
    const result = notebookLabValidator.validate(lab);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.state).toBe('Running');
    expect(result.value.spec.volumes?.[0]?.readOnly).toBe(true);
    expect(result.value.spec.env?.[1]?.valueFrom?.secretKeyRef.optional).toBe(false);
    expect(lab.spec.state).toBeUndefined();
  });

  it('rejects a missing owner, naming spec.owner', () => {
    const lab = sampleLab() as { spec: Record<string, unknown> };
    delete lab.spec.owner;
    expect(errorsOf(notebookLabValidator.validate(lab))).toContainEqual({
      path: 'spec.owner',
      message: 'Required value',
    });
  });

  it('rejects a bad enum value with the allowed values', () => {
    const lab = sampleLab();
    (lab.spec as Record<string, unknown>).state = 'Paused';
    expect(errorsOf(notebookLabValidator.validate(lab))).toEqual([
      { path: 'spec.state', message: 'must be one of: "Running", "Stopped"' },
    ]);
  });

  it('rejects both image and imageAlias (CEL mirror) at spec.image', () => {
    const lab = sampleLab();
    lab.spec.image = 'registry.example.org/me/lab:1';
    expect(errorsOf(notebookLabValidator.validate(lab))).toEqual([
      { path: 'spec.image', message: 'image and imageAlias are mutually exclusive: set at most one' },
    ]);
  });

  it('accepts neither image nor imageAlias (the profile default applies)', () => {
    const lab = sampleLab();
    delete lab.spec.imageAlias;
    expect(notebookLabValidator.validate(lab).ok).toBe(true);
  });

  it('rejects an env var with both value and valueFrom, and a bad env name', () => {
    const lab = sampleLab();
    lab.spec.env = [
      { name: '1BAD', value: 'x' },
      { name: 'BOTH', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ];
    const errors = errorsOf(notebookLabValidator.validate(lab));
    expect(errors.map((e) => e.path).sort()).toEqual(['spec.env[0].name', 'spec.env[1]']);
    expect(formatErrors(errors)).toContain('exactly one of value and valueFrom must be set');
  });

  it('rejects a volume with two sources and duplicate mount paths', () => {
    const lab = sampleLab();
    lab.spec.volumes = [
      { name: 'a', mountPath: '/data', configMap: { name: 'c' }, secret: { secretName: 's' } },
      { name: 'b', mountPath: '/data', configMap: { name: 'c' } },
    ];
    const messages = errorsOf(notebookLabValidator.validate(lab)).map((e) => `${e.path}: ${e.message}`);
    expect(messages).toContain(
      'spec.volumes[0]: exactly one of persistentVolumeClaim, configMap and secret must be set',
    );
    expect(messages).toContain('spec.volumes: mountPath must be unique across volumes');
  });

  it('rejects unknown fields (the apiserver would silently prune them)', () => {
    const lab = sampleLab();
    (lab.spec as Record<string, unknown>).imagAlias = 'typo';
    expect(errorsOf(notebookLabValidator.validate(lab))).toContainEqual({
      path: 'spec.imagAlias',
      message: 'unknown field',
    });
  });

  it('rejects names that would make child names too long, and owners that are not label values', () => {
    const lab = sampleLab('x'.repeat(51), 'nb', 'alice@example.org');
    const paths = errorsOf(notebookLabValidator.validate(lab)).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['metadata.name', 'spec.owner']));
  });

  it('enforces immutability of owner and profile only when given the old object', () => {
    const old = notebookLabValidator.validate(sampleLab());
    if (!old.ok) throw new Error(formatErrors(old.errors));
    const changed = sampleLab();
    changed.spec.owner = 'bob';
    changed.spec.profile = 'other';
    expect(notebookLabValidator.validate(changed).ok).toBe(true);
    expect(errorsOf(notebookLabValidator.validate(changed, old.value))).toEqual([
      { path: 'spec.owner', message: 'owner is immutable' },
      { path: 'spec.profile', message: 'profile is immutable' },
    ]);
    const same = sampleLab();
    same.spec.state = 'Stopped';
    expect(notebookLabValidator.validate(same, old.value).ok).toBe(true);
  });

  it('validates status: phase enum and condition shape', () => {
    const lab = {
      ...sampleLab(),
      status: { phase: 'Exploded', conditions: [{ type: 'Ready', status: 'Maybe' }] },
    };
    const paths = errorsOf(notebookLabValidator.validate(lab)).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'status.phase',
        'status.conditions[0].status',
        'status.conditions[0].reason',
        'status.conditions[0].lastTransitionTime',
      ]),
    );
  });
});

describe('notebookProfileValidator', () => {
  it('accepts the sample and fills in nested defaults', () => {
    const result = notebookProfileValidator.validate(sampleProfile());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const spec = result.value.spec;
    expect(spec.images.allowCustomImage).toBe(false);
    expect(spec.images.pullPolicy).toBe('IfNotPresent');
    expect(spec.culling).toMatchObject({
      enabled: true,
      idleTimeout: '24h',
      maxLifetime: '168h',
      warnBefore: '30m',
    });
    expect(spec.security).toEqual({
      runAsUser: 1000,
      runAsGroup: 100,
      fsGroup: 100,
      readOnlyRootFilesystem: true,
    });
    expect(spec.home.mountPath).toBe('/home/jovyan');
    expect(spec.network.enabled).toBe(true);
  });

  it('rejects a defaultSize that names no size, and a defaultAlias that names no alias', () => {
    const p = sampleProfile();
    p.spec.defaultSize = 'huge';
    p.spec.images.defaultAlias = 'nightly';
    expect(errorsOf(notebookProfileValidator.validate(p))).toEqual([
      { path: 'spec.defaultSize', message: 'defaultSize must name one of sizes' },
      { path: 'spec.images.defaultAlias', message: 'defaultAlias must name one of aliases' },
    ]);
  });

  it('rejects limits below requests, comparing quantities not strings', () => {
    const p = sampleProfile();
    p.spec.sizes = [
      { name: 'ok', requests: { cpu: '500m', memory: '1024Mi' }, limits: { cpu: 1, memory: '1Gi' } },
      { name: 'bad', requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '1500m', memory: '2Gi' } },
    ];
    p.spec.defaultSize = 'ok';
    expect(errorsOf(notebookProfileValidator.validate(p))).toEqual([
      { path: 'spec.sizes[1].limits', message: 'limits must be at least requests for cpu and memory' },
    ]);
  });

  it('rejects malformed quantities and durations, and warnBefore not shorter than idleTimeout', () => {
    const p = sampleProfile();
    p.spec.home = { size: '10 GB' };
    p.spec.culling = { idleTimeout: '1h', warnBefore: '2h' };
    const bad = sampleProfile();
    bad.spec.culling = { idleTimeout: '7d' };
    expect(errorsOf(notebookProfileValidator.validate(p))).toEqual([
      { path: 'spec.culling.warnBefore', message: 'warnBefore must be shorter than idleTimeout' },
      { path: 'spec.home.size', message: 'must be a Kubernetes quantity such as "500m", "2" or "2Gi"' },
    ]);
    expect(errorsOf(notebookProfileValidator.validate(bad)).map((e) => e.path)).toEqual([
      'spec.culling.idleTimeout',
    ]);
  });

  it('rejects quantities no admin means: negative, zero, absurd, sub-byte memory and storage', () => {
    const p = sampleProfile();
    p.spec.sizes = [
      { name: 'neg', requests: { cpu: '-1', memory: '-2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
      { name: 'zero', requests: { cpu: 0, memory: '0' }, limits: { cpu: '1e100', memory: '1n' } },
      { name: 'frac', requests: { cpu: '1n', memory: '1500m' }, limits: { cpu: '2000', memory: '65Ti' } },
      { name: 'ok', requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: 1024, memory: '64Ti' } },
    ];
    p.spec.defaultSize = 'ok';
    p.spec.home = { size: '-10Gi' };
    p.spec.quota = { maxTotalHomeSize: '0' };
    const errors = errorsOf(notebookProfileValidator.validate(p));
    const cpu = 'must be from 1m to 1024 cores';
    const mem = 'must be a whole number of bytes from 1Mi to 64Ti';
    const disk = 'must be a whole number of bytes from 1Mi to 1Pi';
    expect(errors.filter((e) => e.message !== 'limits must be at least requests for cpu and memory')).toEqual(
      [
        { path: 'spec.home.size', message: disk },
        { path: 'spec.quota.maxTotalHomeSize', message: disk },
        { path: 'spec.sizes[0].requests.cpu', message: cpu },
        { path: 'spec.sizes[0].requests.memory', message: mem },
        { path: 'spec.sizes[1].limits.cpu', message: cpu },
        { path: 'spec.sizes[1].limits.memory', message: mem },
        { path: 'spec.sizes[1].requests.cpu', message: cpu },
        { path: 'spec.sizes[1].requests.memory', message: mem },
        { path: 'spec.sizes[2].limits.cpu', message: cpu },
        { path: 'spec.sizes[2].limits.memory', message: mem },
        { path: 'spec.sizes[2].requests.cpu', message: cpu },
        { path: 'spec.sizes[2].requests.memory', message: mem },
      ],
    );
  });

  it('rejects a profile with no aliases that does not allow custom images', () => {
    const p = sampleProfile();
    p.spec.images = { aliases: [] };
    expect(errorsOf(notebookProfileValidator.validate(p))).toEqual([
      {
        path: 'spec.images.aliases',
        message: 'a profile needs at least one alias unless allowCustomImage is true',
      },
    ]);
    p.spec.images = { allowCustomImage: true };
    expect(notebookProfileValidator.validate(p).ok).toBe(true);
  });

  it('rejects a root UID', () => {
    const p = sampleProfile();
    p.spec.security = { runAsUser: 0 };
    expect(errorsOf(notebookProfileValidator.validate(p)).map((e) => e.path)).toEqual([
      'spec.security.runAsUser',
    ]);
  });
});
