// Smoke tests of helm (from the cached kubectl layer) on the chart in charts/skyport.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helm, repoRoot } from '../cluster/index.js';

const chart = join(repoRoot, 'charts', 'skyport');

describe('helm on charts/skyport', () => {
  it('lints cleanly in strict mode', async () => {
    const out = await helm(['lint', '--strict', chart]);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('templates a ServiceAccount named after the release, with the common labels', async () => {
    const out = await helm(['template', 'r1', chart, '--namespace', 'skyport-system']);
    const docs = parseAllDocuments(out)
      .map(
        (d) =>
          d.toJS() as {
            kind?: string;
            metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
          } | null,
      )
      .filter((d) => d?.kind);
    const sa = docs.find((d) => d?.kind === 'ServiceAccount');
    expect(sa?.metadata).toMatchObject({ name: 'r1-skyport', namespace: 'skyport-system' });
    expect(sa?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/instance': 'r1',
      'app.kubernetes.io/managed-by': 'Helm',
    });
  });

  it('fails on a broken chart (so the checks above can fail)', async () => {
    await expect(helm(['template', 'r1', join(repoRoot, 'charts', 'does-not-exist')])).rejects.toThrow(
      /does-not-exist" not found/,
    );
  });
});
