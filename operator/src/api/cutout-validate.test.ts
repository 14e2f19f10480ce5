// The ImageCollection and CutoutJob validators accept the samples with defaults, and refuse bad specs naming the
// field (the same cases e2e/cutoutjob/crds.e2e.test.ts checks against the apiserver's CEL).
import { describe, expect, it } from 'vitest';
import { sampleCollection, sampleCutoutJob, sideAllowed, sizeOf } from './v1alpha1/index.js';
import { cutoutJobValidator, imageCollectionValidator } from './validate.js';
import type { FieldError } from './validate.js';

function paths(r: { ok: boolean; errors?: FieldError[] }): string[] {
  return r.ok ? [] : (r.errors ?? []).map((e) => `${e.path}: ${e.message}`);
}

describe('ImageCollection', () => {
  it('accepts the sample and fills in DES limits', () => {
    const r = imageCollectionValidator.validate(sampleCollection());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.limits).toEqual({
      maxPositions: 10_000,
      minSizeArcmin: 0.1,
      maxSizeArcmin: 12,
      maxSizePixels: 4096,
      maxConcurrentJobsPerOwner: 4,
    });
    expect(r.value.spec.results.persistentVolumeClaim.path).toBe('');
  });

  it('refuses a path escaping the volume, a missing source and min > max size', () => {
    const c = sampleCollection();
    c.spec.source.persistentVolumeClaim = { claimName: 'des-tiles', path: 'coadd/../../etc' };
    c.spec.limits = { minSizeArcmin: 5, maxSizeArcmin: 1 };
    delete (c.spec as { results?: unknown }).results;
    expect(paths(imageCollectionValidator.validate(c))).toEqual([
      'spec.limits: minSizeArcmin must not exceed maxSizeArcmin',
      'spec.results: Required value',
      'spec.source.persistentVolumeClaim.path: path must not contain ".."',
    ]);
  });
  it('takes a bucket as the source, exactly one of a claim and a bucket', () => {
    const bucket = {
      endpoint: 'http://objects.example.org:7070',
      bucket: 'des-tiles',
      prefix: 'dr2/coadd',
      credentialsSecretRef: { name: 'des-tiles-s3' },
      forcePathStyle: true,
    };
    const c = sampleCollection();
    c.spec.source = { s3: bucket };
    const r = imageCollectionValidator.validate(c);
    expect(paths(r)).toEqual([]);
    if (!r.ok) return;
    // The Catalog's defaults: the same typed definition.
    expect(r.value.spec.source.s3).toEqual({
      ...bucket,
      region: 'us-east-1',
      credentialsSecretRef: {
        name: 'des-tiles-s3',
        accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
        secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
      },
    });
    c.spec.source = { s3: { ...bucket, prefix: '' } };
    expect(paths(imageCollectionValidator.validate(c))).toEqual([]);
    c.spec.source = { s3: bucket, persistentVolumeClaim: { claimName: 'des-tiles' } };
    expect(paths(imageCollectionValidator.validate(c))).toEqual([
      'spec.source: exactly one of persistentVolumeClaim and s3 must be set',
    ]);
    c.spec.source = {};
    expect(paths(imageCollectionValidator.validate(c))).toEqual([
      'spec.source: exactly one of persistentVolumeClaim and s3 must be set',
    ]);
    c.spec.source = { s3: { ...bucket, prefix: 'dr2/../x' } };
    expect(paths(imageCollectionValidator.validate(c))).toEqual([
      "spec.source.s3.prefix: prefix must not contain '.' or '..' segments",
    ]);
  });
});

describe('CutoutJob', () => {
  it('accepts the sample and fills in DES defaults', () => {
    const r = cutoutJobValidator.validate(sampleCutoutJob());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.size).toEqual({ shape: 'box', xsize: 1, unit: 'arcmin' });
    delete r.value.spec.size;
    expect(sizeOf(r.value.spec)).toEqual({ shape: 'box', x: 1, y: 1, unit: 'arcmin' });
    expect(r.value.spec.edgePolicy).toBe('pad');
    expect(r.value.spec.multiTilePolicy).toBe('mosaic');
    expect(r.value.spec.phase).toBe('RUN');
    expect(r.value.spec.executionDuration).toBe('1h');
    expect(r.value.spec.fits.enabled).toBe(true);
    expect(r.value.spec.colour?.[0]).toEqual({
      method: 'lupton',
      bands: ['i', 'r', 'g'],
      minimum: 1,
      stretch: 50,
      Q: 10,
    });
  });

  it('refuses sizes outside the DES limits in every unit, naming size.xsize or size.ysize', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ xsize: 13, unit: 'arcmin' }, ['spec.size.xsize']],
      [{ xsize: 0.05, unit: 'arcmin' }, ['spec.size.xsize']],
      [{ xsize: 5, unit: 'arcsec' }, ['spec.size.xsize']],
      [{ xsize: 0.25, unit: 'deg' }, ['spec.size.xsize']],
      [{ xsize: 1, ysize: 12.5, unit: 'arcmin' }, ['spec.size.ysize']],
      [{ xsize: 100.5, unit: 'pix' }, ['spec.size.xsize']],
      [{ xsize: 20000, unit: 'pix' }, ['spec.size.xsize']],
      [{ shape: 'circle', xsize: 1, ysize: 2 }, ['spec.size.ysize']],
      [{ xsize: 720, unit: 'arcsec' }, []],
      [{ xsize: 0.2, unit: 'deg' }, []],
      [{ xsize: 228, ysize: 100, unit: 'pix' }, []],
    ];
    for (const [size, want] of cases) {
      const j = sampleCutoutJob();
      j.spec.size = size;
      expect(
        paths(cutoutJobValidator.validate(j)).map((p) => p.split(':')[0]),
        JSON.stringify(size),
      ).toEqual(want);
    }
    expect(sideAllowed(12, 'arcmin')).toBe(true);
    expect(sideAllowed(12.001, 'arcmin')).toBe(false);
  });

  it('refuses two position sources, bad enums, three-band colour rules and a long name', () => {
    const j = sampleCutoutJob('a'.repeat(41));
    j.spec.positions.configMapRef = { name: 'pos' };
    j.spec.colour = [{ bands: ['g', 'r'] }];
    (j.spec as Record<string, unknown>).edgePolicy = 'wrap';
    j.spec.fits = { hdus: ['SCI', 'VAR'] };
    j.spec.parallelism = { shards: 65 };
    expect(paths(cutoutJobValidator.validate(j))).toEqual([
      'metadata.name: must NOT have more than 40 characters',
      'spec.colour[0].bands: must NOT have fewer than 3 items',
      'spec.edgePolicy: must be one of: "pad", "trim", "error"',
      'spec.fits.hdus[1]: must be one of: "SCI", "MSK", "WGT"',
      'spec.parallelism.shards: must be <= 64',
      'spec.positions: exactly one of inline, configMapRef and fromQueryJob must be set',
    ]);
  });

  it('keeps owner, collection and positions immutable but lets phase change', () => {
    const old = cutoutJobValidator.validate(sampleCutoutJob());
    if (!old.ok) throw new Error('sample invalid');
    const next = structuredClone(old.value);
    next.spec.phase = 'ABORT';
    expect(cutoutJobValidator.validate(next, old.value).ok).toBe(true);
    next.spec.owner = 'bob';
    next.spec.positions = { inline: 'RA,DEC\n1,2\n' };
    expect(paths(cutoutJobValidator.validate(next, old.value))).toEqual([
      'spec.owner: owner is immutable',
      'spec.positions: positions are immutable: create another CutoutJob',
    ]);
  });
});
