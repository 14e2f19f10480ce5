// Golden-file tests of the pure NotebookLab builder, plus the invariants every child must hold.
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TerminalError } from '../../errors.js';
import { buildChildren, labNames, resolveLab } from './build.js';
import type { DesiredChildren } from './build.js';
import { labFixture, profileFixture } from './fixtures.test-util.js';

function golden(name: string, children: DesiredChildren): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.yaml`, import.meta.url));
  const docs = [children.home, children.token, children.service, children.networkPolicy, children.pod]
    .filter((o) => o !== undefined)
    .map((o) => stringify(o, { sortMapEntries: false }))
    .join('---\n');
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, docs);
  expect(docs).toBe(readFileSync(path, 'utf8'));
}

const TOKEN = 'golden-token-0123456789abcdef';

describe('buildChildren golden files', () => {
  it('default lab: alias, default size, retain, network policy', () => {
    golden('default', buildChildren(labFixture(), profileFixture(), { token: TOKEN }, { admitted: true }));
  });
  it('custom image, medium size, env, extra volumes, pull secret, no network policy, no storage class', () => {
    const profile = profileFixture({
      images: { aliases: [], allowCustomImage: true, pullPolicy: 'Always', pullSecrets: ['registry-pull'] },
      home: { size: '5Gi', mountPath: '/home/bob', retainPolicy: 'Delete' },
      network: { enabled: false, ingressNamespaces: [] },
      urlTemplate: 'https://data.example.org/nb/{owner}/{name}/',
    });
    const lab = labFixture(
      {
        owner: 'bob',
        image: 'registry.example.org/bob/custom:1.0',
        size: 'medium',
        env: [
          { name: 'DES_RELEASE', value: 'dr2' },
          {
            name: 'DB_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'bob-db', key: 'password', optional: false } },
          },
        ],
        volumes: [
          {
            name: 'dr2',
            mountPath: '/data/des/dr2',
            readOnly: true,
            persistentVolumeClaim: { claimName: 'des-dr2-ro' },
          },
          { name: 'ssh', mountPath: '/home/bob/.ssh', readOnly: true, secret: { secretName: 'bob-ssh' } },
        ],
      },
      { name: 'bob-big', namespace: 'nb-bob', uid: '6f1c2b9e-0000-4000-8000-000000000002' },
    );
    golden('custom', buildChildren(lab, profile, { token: TOKEN }, { admitted: true }));
  });
  it('stopped lab: no Pod, everything else kept', () => {
    golden(
      'stopped',
      buildChildren(labFixture({ state: 'Stopped' }), profileFixture(), { token: TOKEN }, { admitted: true }),
    );
  });
});

describe('buildChildren invariants', () => {
  const lab = labFixture();
  const c = buildChildren(lab, profileFixture(), { token: TOKEN }, { admitted: true });
  const all = [c.home, c.token, c.service, c.networkPolicy, c.pod];

  it('names are deterministic and every child carries the owner labels', () => {
    expect(labNames('alice-default')).toEqual({
      home: 'alice-default-home',
      token: 'alice-default-token',
      pod: 'alice-default-lab',
      service: 'alice-default-lab',
      networkPolicy: 'alice-default-lab',
    });
    for (const o of all) {
      expect(o?.metadata?.labels?.['skyport.io/owner-uid']).toBe(lab.metadata.uid);
      expect(o?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('skyport-operator');
      expect(o?.metadata?.labels?.['skyport.io/owner']).toBe('alice');
      expect(o?.metadata?.namespace).toBe('nb-alice');
    }
  });
  it('every child but the home PVC is owned by the lab', () => {
    expect(c.home.metadata?.ownerReferences).toBeUndefined();
    for (const o of [c.token, c.service, c.networkPolicy, c.pod]) {
      expect(o?.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'skyport.io/v1alpha1',
          kind: 'NotebookLab',
          name: 'alice-default',
          uid: lab.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });
  it('the Pod meets Pod Security "restricted" and never contains the token', () => {
    const spec = c.pod?.spec;
    expect(spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const ctr = spec?.containers[0];
    expect(ctr?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
    });
    expect(ctr?.resources).toEqual({
      requests: { cpu: '1', memory: '2Gi' },
      limits: { cpu: '1', memory: '2Gi' },
    });
    expect(ctr?.args).toContain('--ServerApp.base_url=/user/alice/alice-default/');
    expect(JSON.stringify(c.pod)).not.toContain(TOKEN);
    expect(Buffer.from(c.token.data?.['token'] ?? '', 'base64').toString()).toBe(TOKEN);
  });
  it('the Service selects exactly the lab Pod', () => {
    for (const [k, v] of Object.entries(c.service.spec?.selector ?? {}))
      expect(c.pod?.metadata?.labels?.[k]).toBe(v);
  });
  it('no Pod when refused by quota or being deleted', () => {
    expect(buildChildren(lab, profileFixture(), { token: TOKEN }, { admitted: false }).pod).toBeUndefined();
    const deleting = labFixture({}, { deletionTimestamp: '2026-11-21T11:00:00Z' });
    expect(
      buildChildren(deleting, profileFixture(), { token: TOKEN }, { admitted: true }).pod,
    ).toBeUndefined();
  });
  it('builds the same objects twice (pure)', () => {
    expect(buildChildren(lab, profileFixture(), { token: TOKEN }, { admitted: true })).toEqual(c);
  });
});

describe('resolveLab', () => {
  it('resolves alias, size and URL', () => {
    expect(resolveLab(labFixture({ imageAlias: 'weekly', size: 'medium' }), profileFixture())).toMatchObject({
      image: 'registry.example.org/des/lab:w_2026_46',
      size: { name: 'medium' },
      basePath: '/user/alice/alice-default/',
      url: 'http://alice-default-lab.nb-alice.svc:8888/user/alice/alice-default/lab',
      homeBytes: 10 * 2 ** 30,
    });
  });
  it('expands the profile URL template', () => {
    const p = profileFixture({ urlTemplate: 'https://data.example.org/{namespace}/{owner}/{name}/' });
    expect(resolveLab(labFixture(), p).url).toBe('https://data.example.org/nb-alice/alice/alice-default/');
  });
  it.each([
    [
      { imageAlias: 'nightly' },
      /spec\.imageAlias: alias "nightly" is not offered by profile des-jupyterlab; choose one of recommended, weekly/,
    ],
    [{ size: 'huge' }, /spec\.size: size "huge" is not offered .* choose one of small, medium/],
    [{ image: 'evil/miner:latest' }, /spec\.image: profile des-jupyterlab does not allow custom images/],
  ])('refuses %j with a TerminalError naming the field', (over, msg) => {
    const run = () => resolveLab(labFixture(over), profileFixture());
    expect(run).toThrow(TerminalError);
    expect(run).toThrow(msg);
  });
});
