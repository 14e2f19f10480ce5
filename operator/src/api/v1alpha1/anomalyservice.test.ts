// The AnomalyService API: defaults, the CEL mirrors (naming the field), the scale subresource in the CRD, and the
// limits contract with services/anomaly/src/config.ts (read as text: the operator may not import the service).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anomalyServiceValidator, type FieldError } from '../validate.js';
import {
  ANOMALY_LIMIT_SETTINGS,
  ANOMALY_WORKER_THREADS,
  anomalyServiceDefinition,
  anomalyServiceSpec,
  crdManifest,
  sampleAnomalyService,
} from './index.js';

function errorsOf(result: { ok: boolean; errors?: FieldError[] }): FieldError[] {
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors ?? [];
}

type Loose = { spec: Record<string, unknown> } & Record<string, unknown>;
const sample = (): Loose => sampleAnomalyService() as unknown as Loose;

describe('anomalyServiceValidator', () => {
  it('accepts the sample and fills in defaults', () => {
    const r = anomalyServiceValidator.validate(sample());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.api.serviceType).toBe('ClusterIP');
    expect(r.value.spec.autoscaling?.scaleDownStabilizationSeconds).toBe(300);
    expect(r.value.spec.redis.managed?.size).toBe('20Gi');
  });

  it('defaults an empty spec to one API, one worker and managed Redis of 10Gi', () => {
    const r = anomalyServiceValidator.validate({ ...sample(), spec: {} });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec).toEqual({
      api: { replicas: 1, serviceType: 'ClusterIP' },
      workers: { replicas: 1, threads: 1 },
      redis: { managed: { size: '10Gi' } },
    });
  });

  it('rejects minReplicas > maxReplicas at spec.autoscaling.minReplicas', () => {
    const s = sample();
    s.spec.autoscaling = { minReplicas: 5, maxReplicas: 2 };
    expect(errorsOf(anomalyServiceValidator.validate(s))).toEqual([
      { path: 'spec.autoscaling.minReplicas', message: 'minReplicas must be ≤ maxReplicas' },
    ]);
  });

  it('rejects both and neither of managed and external Redis at spec.redis', () => {
    const both = sample();
    both.spec.redis = { managed: {}, external: { urlSecretRef: { name: 'r', key: 'url' } } };
    expect(errorsOf(anomalyServiceValidator.validate(both))).toEqual([
      { path: 'spec.redis', message: 'exactly one of managed and external must be set' },
    ]);
    const neither = sample();
    neither.spec.redis = {};
    expect(errorsOf(anomalyServiceValidator.validate(neither))).toEqual([
      { path: 'spec.redis', message: 'exactly one of managed and external must be set' },
    ]);
  });

  it('refuses a change of Redis mode on update, allows a change within the mode', () => {
    const old = sample();
    const moved = sample();
    moved.spec.redis = { external: { urlSecretRef: { name: 'r', key: 'url' } } };
    expect(errorsOf(anomalyServiceValidator.validate(moved, old))).toEqual([
      { path: 'spec.redis', message: 'the Redis mode (managed or external) is immutable' },
    ]);
    const resized = sample();
    resized.spec.redis = { managed: { size: '40Gi' } };
    expect(anomalyServiceValidator.validate(resized, old).ok).toBe(true);
  });

  it('rejects limits outside what the service accepts, naming the field', () => {
    const s = sample();
    s.spec.limits = { maxCols: 70_000, maxSyncRows: 0 };
    expect(errorsOf(anomalyServiceValidator.validate(s)).map((e) => e.path)).toEqual([
      'spec.limits.maxCols',
      'spec.limits.maxSyncRows',
    ]);
  });

  it('rejects a RedisStream channel without its key', () => {
    const s = sample();
    s.spec.streams = [{ name: 'm1m3', source: 'RedisStream' }];
    expect(errorsOf(anomalyServiceValidator.validate(s))).toEqual([
      { path: 'spec.streams[0]', message: 'redisStreamKey is set exactly when source is RedisStream' },
    ]);
  });

  it('rejects a name longer than 40 characters', () => {
    const s = sample();
    s['metadata'] = { name: 'a'.repeat(41), namespace: 'x' };
    expect(errorsOf(anomalyServiceValidator.validate(s)).map((e) => e.path)).toEqual(['metadata.name']);
  });
});

describe('AnomalyService CRD', () => {
  it('has the scale subresource on the workers and the printer columns', () => {
    const crd = crdManifest(anomalyServiceDefinition) as {
      spec: { versions: { subresources: unknown; additionalPrinterColumns: { name: string }[] }[] };
    };
    const v = crd.spec.versions[0];
    expect(v?.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.workers.replicas',
        statusReplicasPath: '.status.workerReplicas',
        labelSelectorPath: '.status.workerSelector',
      },
    });
    expect(v?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Ready',
      'Workers',
      'Queue',
      'URL',
      'Age',
      'Reason',
    ]);
  });
});

/** The `int(env, 'NAME', default, min, max)` calls of services/anomaly/src/config.ts, evaluated. */
function serviceIntSettings(): Map<string, { min: number; max: number }> {
  const path = fileURLToPath(new URL('../../../../services/anomaly/src/config.ts', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const out = new Map<string, { min: number; max: number }>();
  // Products of integer literals only (`8 * 1024 * 1024`); anything else reads as NaN and fails a comparison.
  const num = (expr: string): number =>
    /^[\d_\s*]+$/.test(expr)
      ? expr.split('*').reduce((acc, f) => acc * Number(f.trim().replace(/_/g, '')), 1)
      : Number.NaN;
  for (const m of text.matchAll(/int\(env, '([A-Z_]+)', [^,]+, ([^,]+), ([^)]+)\)/g)) {
    out.set(m[1] ?? '', { min: num(m[2] ?? ''), max: num(m[3] ?? '') });
  }
  return out;
}

describe('limits contract with services/anomaly/src/config.ts', () => {
  const service = serviceIntSettings();

  it('reads the service settings (the parser finds them)', () => {
    expect(service.get('PORT')).toEqual({ min: 0, max: 65535 });
  });

  it.each(Object.entries(ANOMALY_LIMIT_SETTINGS))(
    'spec.limits.%s maps onto a service variable with the same bounds',
    (field, s) => {
      expect(service.get(s.env)).toEqual({ min: s.minimum, max: s.maximum });
      const schema = anomalyServiceSpec.schema.properties?.['limits']?.properties?.[field];
      expect({ min: schema?.minimum, max: schema?.maximum }).toEqual({ min: s.minimum, max: s.maximum });
    },
  );

  it('spec.workers.threads has the bounds of WORKER_THREADS', () => {
    const s = ANOMALY_WORKER_THREADS;
    expect(service.get(s.env)).toEqual({ min: s.minimum, max: s.maximum });
    const schema = anomalyServiceSpec.schema.properties?.['workers']?.properties?.['threads'];
    expect({ min: schema?.minimum, max: schema?.maximum }).toEqual({ min: s.minimum, max: s.maximum });
  });
});
