import { describe, expect, it } from 'vitest';
import { serviceFixture } from './fixtures.test-util.js';
import { PoolStatusError } from './poolstatus.js';
import { statusUrl } from './reconcile.js';

describe('statusUrl', () => {
  const svc = serviceFixture();
  const ns = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';

  it('is the in-cluster API URL without a template', () => {
    expect(statusUrl(svc, '')).toBe(`http://${name}-api.${ns}.svc:8080/v1/status`);
  });

  it('fills {namespace} {name} {service} and {clusterIP}', () => {
    expect(statusUrl(svc, 'http://{service}.{namespace}.example:9/{name}', '10.96.0.7')).toBe(
      `http://${name}-api.${ns}.example:9/${name}`,
    );
    expect(statusUrl(svc, 'http://{clusterIP}:8080/v1/status', '10.96.0.7')).toBe(
      'http://10.96.0.7:8080/v1/status',
    );
    expect(statusUrl(svc, 'http://{clusterIP}:8080/v1/status', 'fd00:10:96::7')).toBe(
      'http://[fd00:10:96::7]:8080/v1/status',
    );
  });

  it('has no URL while a {clusterIP} template meets a Service without one', () => {
    for (const ip of [undefined, '', 'None'])
      expect(() => statusUrl(svc, 'http://{clusterIP}:8080/v1/status', ip)).toThrow(
        new PoolStatusError(`Service ${name}-api has no cluster IP yet`),
      );
    // A template without {clusterIP} does not need one.
    expect(statusUrl(svc, 'http://{service}:8080/v1/status')).toBe(`http://${name}-api:8080/v1/status`);
  });
});
