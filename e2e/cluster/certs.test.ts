// Unit tests of the openssl-based PKI: subject escaping, extensions, and real issued certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCA,
  createServiceAccountKeys,
  issueLeaf,
  leafExtensions,
  readPem,
  subjectArg,
} from './certs.js';

describe('subjectArg', () => {
  it('puts organisations before the common name and escapes separators', () => {
    expect(subjectArg({ cn: 'system:kube-scheduler' })).toBe('/CN=system:kube-scheduler');
    expect(subjectArg({ cn: 'a/b', orgs: ['system:masters', 'x=y'] })).toBe(
      '/O=system:masters/O=x\\=y/CN=a\\/b',
    );
  });
  it('rejects empty parts', () => {
    expect(() => subjectArg({ cn: '' })).toThrow(/must not be empty/);
  });
});

describe('leafExtensions', () => {
  it('lists SANs for servers and requires at least one', () => {
    const ext = leafExtensions({ usage: 'server', ips: ['127.0.0.1'], dnsNames: ['localhost'] });
    expect(ext).toContain('extendedKeyUsage=serverAuth');
    expect(ext).toContain('subjectAltName=IP:127.0.0.1,DNS:localhost');
    expect(() => leafExtensions({ usage: 'server' })).toThrow(/at least one SAN/);
    expect(leafExtensions({ usage: 'client' })).toContain('extendedKeyUsage=clientAuth');
  });
});

describe('issued certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyport-certs-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ossl = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

  it('chain to the CA and carry the requested identity and SANs', () => {
    createCA(dir);
    issueLeaf(dir, {
      name: 'srv',
      cn: 'kube-apiserver',
      usage: 'server',
      ips: ['127.0.0.1'],
      dnsNames: ['kubernetes'],
    });
    issueLeaf(dir, { name: 'admin', cn: 'skyport-admin', orgs: ['system:masters'], usage: 'client' });
    expect(ossl('verify', '-CAfile', 'ca.crt', 'srv.crt', 'admin.crt')).toMatch(
      /srv.crt: OK[\s\S]*admin.crt: OK/,
    );
    const srv = ossl('x509', '-in', 'srv.crt', '-noout', '-text');
    expect(srv).toMatch(/IP Address:127\.0\.0\.1/);
    expect(srv).toMatch(/DNS:kubernetes/);
    expect(srv).toMatch(/TLS Web Server Authentication/);
    expect(ossl('x509', '-in', 'admin.crt', '-noout', '-subject')).toMatch(
      /O\s*=\s*system:masters, CN\s*=\s*skyport-admin/,
    );
    // A certificate from another CA must not verify against ours.
    const other = mkdtempSync(join(tmpdir(), 'skyport-certs-other-'));
    try {
      createCA(other, 'someone-else');
      expect(() => ossl('verify', '-CAfile', join(other, 'ca.crt'), 'srv.crt')).toThrow();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('makes a ServiceAccount key pair whose public half matches', () => {
    createServiceAccountKeys(dir);
    const derived = ossl('pkey', '-in', 'sa.key', '-pubout');
    expect(derived.trim()).toBe(readPem(dir, 'sa.pub').trim());
  });
});
