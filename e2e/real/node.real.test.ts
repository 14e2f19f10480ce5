// Tier "real": Pods on the real node (containerd + runc + kubelet) run real processes. Skipped unless the
// cluster has the real node: `npm run test:real` (SKYPORT_REAL_NODE=1 npx vitest run --project real).
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';
import {
  binDir,
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
} from '../cluster/index.js';
import { REAL_NODE_CGROUP_ROOT, REAL_NODE_NAME } from '../cluster/node/config.js';
import { imageArchive, importImage, nodeImages } from '../cluster/node/node.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = await realNodeSkipReason(kubeconfig);
const IMAGE = nodeImages().busybox.ref;
/** kubectl (static Go) alone in an image: an in-cluster API client like the operator. */
const kubectlImage = {
  ref: 'registry.local/skyport/kubectl-test:1',
  files: [{ src: join(binDir(), 'kubectl'), dest: '/kubectl' }],
  user: '65534:65534',
};

interface PodStatus {
  status: {
    phase: string;
    podIP?: string;
    containerStatuses?: {
      ready: boolean;
      state: {
        waiting?: { reason: string; message?: string };
        terminated?: { reason: string; exitCode: number };
      };
    }[];
  };
  spec: { nodeName?: string };
}

/** A Pod pinned to the real node running `script` in the busybox test image. */
function pod(
  name: string,
  script: string,
  extra: Record<string, unknown> = {},
  specExtra: Record<string, unknown> = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: {
      nodeSelector: { type: 'real' },
      terminationGracePeriodSeconds: 0,
      containers: [
        { name: 'main', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', script], ...extra },
      ],
      ...specExtra,
    },
  };
}

describe.skipIf(skipReason !== undefined)(`real node${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns = '';
  const apply = (objs: object[]): Promise<string> =>
    kubectl(['apply', '-n', ns, '-f', '-'], {
      kubeconfig,
      input: objs.map((o) => stringify(o)).join('---\n'),
    });
  const getPod = (name: string): Promise<PodStatus> =>
    kubectlJson<PodStatus>(['get', 'pod', name, '-n', ns], { kubeconfig });
  const waitReady = async (name: string): Promise<void> => {
    await eventually(
      async () => {
        const p = await getPod(name);
        return p.status.containerStatuses?.every((c) => c.ready) === true;
      },
      { timeoutMs: 60_000, description: `pod ${name} ready` },
    );
  };

  beforeAll(async () => {
    await importImage(dirname(kubeconfig), imageArchive(kubectlImage));
    ns = await createNamespace('real');
    await apply([
      pod(
        'web',
        'echo served-by-$(hostname) > /www/index.html && echo started && exec httpd -f -v -p 8080 -h /www',
        {
          ports: [{ containerPort: 8080 }],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        },
      ),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
      pod('client', 'echo client-up; exec sleep 3600'),
    ]);
    await Promise.all([waitReady('web'), waitReady('client')]);
  });
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  });

  it('runs a locally built image as a real process on the real node; logs and exec work', async () => {
    onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
    const p = await getPod('web');
    expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
    expect(p.status.podIP).toMatch(/^10\.250\.0\./);
    expect(await kubectl(['logs', '-n', ns, 'web'], { kubeconfig })).toContain('started');
    expect(
      (await kubectl(['exec', '-n', ns, 'web', '--', 'sh', '-c', 'echo $((6 * 7))'], { kubeconfig })).trim(),
    ).toBe('42');
    // The container's processes live in the kubelet's own cgroup tree on this host (cgroup v1 shows the path).
    const cgroup = await kubectl(['exec', '-n', ns, 'web', '--', 'cat', '/proc/1/cgroup'], { kubeconfig });
    expect(cgroup).toContain(`${REAL_NODE_CGROUP_ROOT}/kubepods`);
  });

  it('reaches a ClusterIP Service by its DNS name from another pod', async () => {
    onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
    const svcIP = (
      await kubectl(['get', 'svc', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'], { kubeconfig })
    ).trim();
    // busybox's nslookup asks cluster DNS (the nameserver the kubelet wrote into the pod's resolv.conf)
    // itself: the static busybox's libc resolver crashes without NSS modules, and nslookup ignores search.
    const answer = await kubectl(
      ['exec', '-n', ns, 'client', '--', 'nslookup', `web.${ns}.svc.cluster.local`],
      { kubeconfig },
    );
    expect(answer).toContain(`web.${ns}.svc.cluster.local`);
    expect(answer).toContain(`Address: ${svcIP}`);
    await eventually(
      async () => {
        const body = await kubectl(
          // busybox-static's `wget -T` crashes (SIGSEGV); `timeout` bounds it instead.
          ['exec', '-n', ns, 'client', '--', 'timeout', '5', 'wget', '-q', '-O-', `http://${svcIP}`],
          { kubeconfig },
        );
        expect(body.trim()).toBe('served-by-web');
      },
      { timeoutMs: 30_000, description: `http://${svcIP} (web) from the client pod` },
    );
  });

  it('reaches the apiserver through the kubernetes Service with in-cluster credentials', async () => {
    onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
    // kubectl in a pod with no kubeconfig uses the in-cluster config: KUBERNETES_SERVICE_HOST (the Service's
    // ClusterIP), the ServiceAccount token and the cluster CA; TLS is verified against the serving cert.
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'incluster' },
        spec: {
          nodeSelector: { type: 'real' },
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: kubectlImage.ref,
              imagePullPolicy: 'Never',
              command: ['/kubectl', 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
            },
          ],
        },
      },
    ]);
    await eventually(async () => (await getPod('incluster')).status.phase === 'Succeeded', {
      timeoutMs: 60_000,
      description: 'in-cluster kubectl pod finished',
    });
    expect(await kubectl(['logs', '-n', ns, 'incluster'], { kubeconfig })).toBe(
      `system:serviceaccount:${ns}:default`,
    );
  });

  it('OOM-kills a container that allocates past its memory limit (real cgroup)', async () => {
    onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
    // busybox tail buffers /dev/zero (no newline ever comes) until the cgroup's limit kills it.
    const limits = { memory: '32Mi' };
    await apply([
      pod('hog', 'tail /dev/zero', { resources: { limits, requests: limits } }, { restartPolicy: 'Never' }),
    ]);
    await eventually(
      async () => {
        const p = await getPod('hog');
        const t = p.status.containerStatuses?.[0]?.state.terminated ?? lastTerminated(p);
        expect(t?.reason).toBe('OOMKilled');
        expect(t?.exitCode).toBe(137);
      },
      { timeoutMs: 60_000, description: 'hog OOMKilled' },
    );
  });

  it('reports ErrImagePull / ImagePullBackOff for an image that does not exist', async () => {
    onTestFailed(async () => console.error(await dumpDiagnostics(ns, [], { kubeconfig })));
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'missing' },
        spec: {
          nodeSelector: { type: 'real' },
          containers: [
            {
              name: 'main',
              image: 'registry.local/skyport/does-not-exist:1',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
        },
      },
    ]);
    await eventually(
      async () => {
        const w = (await getPod('missing')).status.containerStatuses?.[0]?.state.waiting;
        expect(['ErrImagePull', 'ImagePullBackOff']).toContain(w?.reason);
        expect(w?.message ?? '').toContain('does-not-exist');
      },
      { timeoutMs: 60_000, description: 'missing image reported' },
    );
  });
});

function lastTerminated(p: PodStatus): { reason: string; exitCode: number } | undefined {
  const s = (
    p.status.containerStatuses?.[0] as
      { lastState?: { terminated?: { reason: string; exitCode: number } } } | undefined
  )?.lastState;
  return s?.terminated;
}
