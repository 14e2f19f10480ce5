import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOciArchive, imageDocuments, splitRef } from './oci.js';

const work = mkdtempSync(join(tmpdir(), 'oci-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('OCI archives', () => {
  it('splits references with registry ports and defaults the tag', () => {
    expect(splitRef('registry.local/skyport/pause:1')).toEqual({
      name: 'registry.local/skyport/pause',
      tag: '1',
    });
    expect(splitRef('localhost:5000/a/b')).toEqual({ name: 'localhost:5000/a/b', tag: 'latest' });
  });

  it('names the image for containerd and points the manifest at the layer and config digests', () => {
    const docs = imageDocuments(
      { ref: 'r/x:2', files: [], entrypoint: ['/x'], user: '1:1' },
      { digest: 'ab', size: 3 },
    );
    const config = JSON.parse(docs.config) as {
      config: Record<string, unknown>;
      rootfs: { diff_ids: string[] };
    };
    expect(config.config).toMatchObject({ Entrypoint: ['/x'], User: '1:1' });
    expect(config.rootfs.diff_ids).toEqual(['sha256:ab']);
    const manifest = JSON.parse(docs.manifest) as {
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    expect(manifest.config.digest).toBe(`sha256:${sha(docs.config)}`);
    expect(manifest.layers).toEqual([expect.objectContaining({ digest: 'sha256:ab', size: 3 })]);
    const index = JSON.parse(docs.index('cd', 9)) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    expect(index.manifests[0]?.digest).toBe('sha256:cd');
    expect(index.manifests[0]?.annotations['io.containerd.image.name']).toBe('r/x:2');
  });

  it('writes a layout whose blobs match their digests and whose layer holds the files', () => {
    const src = join(work, 'hello.sh');
    writeFileSync(src, '#!/bin/sh\necho hi\n');
    const out = join(work, 'img.tar');
    buildOciArchive(
      { ref: 'r/hello:1', files: [{ src, dest: '/bin/hello' }], symlinks: { '/bin/hi': 'hello' } },
      out,
    );
    const x = join(work, 'x');
    execFileSync('mkdir', ['-p', x]);
    execFileSync('tar', ['-xf', out, '-C', x]);
    const index = JSON.parse(readFileSync(join(x, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const mDigest = (index.manifests[0]?.digest ?? '').replace('sha256:', '');
    const manifestBytes = readFileSync(join(x, 'blobs', 'sha256', mDigest));
    expect(sha(manifestBytes)).toBe(mDigest);
    const manifest = JSON.parse(manifestBytes.toString()) as { layers: { digest: string }[] };
    const lDigest = (manifest.layers[0]?.digest ?? '').replace('sha256:', '');
    const layer = join(x, 'blobs', 'sha256', lDigest);
    expect(sha(readFileSync(layer))).toBe(lDigest);
    const listing = execFileSync('tar', ['-tvf', layer], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x 0\/0 .* \.\/bin\/hello/);
    expect(listing).toMatch(/\.\/bin\/hi -> hello/);
  });
});
