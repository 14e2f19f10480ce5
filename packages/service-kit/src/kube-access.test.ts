import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { podAccess as inClusterAccess } from './kube-access.js';

describe('podAccess', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tap-sa-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names KUBERNETES_SERVICE_HOST when it is not set', () => {
    expect(() => inClusterAccess({}, dir)).toThrow('KUBERNETES_SERVICE_HOST is not set');
    expect(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: '' }, dir)).toThrow(
      'KUBERNETES_SERVICE_HOST is not set',
    );
  });

  it('names the CA file when the host is set but the CA cannot be read', () => {
    expect(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir)).toThrow(
      `the ServiceAccount CA ${join(dir, 'ca.crt')} cannot be read`,
    );
  });

  it('returns the server, the token read at each call and the namespace inside a pod', () => {
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'token'), 'one\n');
    writeFileSync(join(dir, 'namespace'), 'science\n');
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, dir);
    expect(a.server).toBe('https://[fd00::1]:6443');
    expect(a.namespace).toBe('science');
    expect(a.token()).toBe('one');
    writeFileSync(join(dir, 'token'), 'two\n');
    expect(a.token()).toBe('two');
  });
});
