// Unit tests of the pure kubeconfig builder, checked by parsing and by client-node's loader.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildKubeconfig } from './kubeconfig.js';

const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('buildKubeconfig', () => {
  it('embeds the CA and client certificate as base64 and selects its only context', () => {
    const text = buildKubeconfig({
      clusterName: 'local',
      server: 'https://127.0.0.1:6443',
      caPem: ca,
      user: { name: 'admin', clientCertificatePem: 'CERT', clientKeyPem: 'KEY' },
    });
    const doc = parse(text) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
      'current-context': string;
    };
    expect(doc.clusters[0]?.cluster['certificate-authority-data']).toBe(Buffer.from(ca).toString('base64'));
    expect(Buffer.from(doc.users[0]?.user['client-key-data'] ?? '', 'base64').toString()).toBe('KEY');
    expect(doc['current-context']).toBe('admin@local');

    const kc = new KubeConfig();
    kc.loadFromString(text);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(kc.getCurrentUser()?.certData).toBe(Buffer.from('CERT').toString('base64'));
  });

  it('writes a bearer token user and a default namespace', () => {
    const kc = new KubeConfig();
    kc.loadFromString(
      buildKubeconfig({
        clusterName: 'local',
        server: 'https://127.0.0.1:1',
        caPem: ca,
        user: { name: 'sa', token: 'a.b.c' },
        namespace: 'team-a',
      }),
    );
    expect(kc.getCurrentUser()?.token).toBe('a.b.c');
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('team-a');
  });

  it('rejects a non-https server, a non-PEM CA and an empty token', () => {
    const base = { clusterName: 'c', caPem: ca, user: { name: 'u', token: 't' } };
    expect(() => buildKubeconfig({ ...base, server: 'http://127.0.0.1:1' })).toThrow(/https:\/\/host:port/);
    expect(() => buildKubeconfig({ ...base, server: 'https://x:1', caPem: 'nope' })).toThrow(/caPem/);
    expect(() =>
      buildKubeconfig({ ...base, server: 'https://x:1', user: { name: 'u', token: ' ' } }),
    ).toThrow(/token is empty/);
  });
});
