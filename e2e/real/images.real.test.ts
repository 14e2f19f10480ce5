// Tier "real": images built by `npm run images` (the images cache's index.json) run on the real node after an
// import into its containerd, and its pod sandboxes are the locally built `pause`. Skipped without a real node.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
  nodeCacheDir,
} from '../cluster/index.js';
import { nodeDirs } from '../cluster/node/config.js';
import { builtImage, importBuiltImages, sandboxImage, missingImages } from '../cluster/node/node.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(['testbox', 'pause']);

/** `ctr -n k8s.io ...` against the real node's containerd. */
function ctr(args: string[]): string {
  return execFileSync(
    join(nodeCacheDir(), 'bin', 'ctr'),
    ['--address', nodeDirs(dirname(kubeconfig)).containerdSocket, '-n', 'k8s.io', ...args],
    { encoding: 'utf8' },
  );
}

describe.skipIf(skipReason !== undefined)(
  `images from the cache on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let ns = '';
    let ref = '';
    beforeAll(async () => {
      ns = await createNamespace('real-img');
    });
    afterAll(async () => {
      if (ns) await deleteNamespace(ns);
    });

    it('imports a built image by name and runs it with imagePullPolicy IfNotPresent', async () => {
      onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
      ref = (await importBuiltImages(dirname(kubeconfig), ['testbox'])).join();
      expect(ref).toBe(builtImage('testbox')?.ref);
      expect(ctr(['images', 'ls', '-q'])).toContain(ref);
      await kubectl(['apply', '-n', ns, '-f', '-'], {
        kubeconfig,
        input: stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'web' },
          spec: {
            nodeSelector: { type: 'real' },
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'web',
                image: ref,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '-c', 'echo built-image > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'],
                securityContext: { readOnlyRootFilesystem: true },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
                readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        }),
      });
      await eventually(
        async () => {
          const p = await kubectlJson<{
            status: { containerStatuses?: { ready: boolean; imageID?: string }[] };
          }>(['get', 'pod', 'web', '-n', ns], { kubeconfig });
          return p.status.containerStatuses?.[0]?.ready === true;
        },
        { timeoutMs: 90_000, description: 'pod of the built testbox image Ready through its HTTP probe' },
      );
      const body = await kubectl(
        ['exec', '-n', ns, 'web', '--', 'timeout', '5', 'wget', '-q', '-O-', 'http://127.0.0.1:8080/'],
        { kubeconfig },
      );
      expect(body.trim()).toBe('built-image');
      // The image runs as its own non-root user.
      expect((await kubectl(['exec', '-n', ns, 'web', '--', 'id', '-u'], { kubeconfig })).trim()).toBe(
        '65534',
      );
    });

    it('a second import of an unchanged archive is skipped; an unbuilt name fails naming the build command', async () => {
      const t0 = performance.now();
      await importBuiltImages(dirname(kubeconfig), ['testbox']);
      expect(performance.now() - t0).toBeLessThan(1000);
      await expect(importBuiltImages(dirname(kubeconfig), ['no-such-image'])).rejects.toThrow(
        /no-such-image not built .*npm run images -- no-such-image/,
      );
    });

    it('pod sandboxes run the locally built pause image', () => {
      expect(sandboxImage().ref).toBe(builtImage('pause')?.ref);
      // Every running sandbox container of the node (CoreDNS's, the test pod's) uses that image.
      const sandboxes = ctr(['containers', 'ls'])
        .split('\n')
        .slice(1)
        .filter((l) => l.includes('pause'));
      expect(sandboxes.length).toBeGreaterThanOrEqual(2);
      for (const l of sandboxes) expect(l).toContain(sandboxImage().ref);
    });
  },
);
