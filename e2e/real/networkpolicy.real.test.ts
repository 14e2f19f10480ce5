// Tier "real": the NetworkPolicies skyport writes for labs are enforced on the real node (kube-router's policy
// controller beside the CNI bridge). Two labs' NetworkPolicies come from the NotebookLab builder; their "servers"
// are busybox httpd on the lab port, carrying the labels the builder's podSelector selects. One lab's pod cannot
// reach the other lab's server; a pod in the profile's proxy namespace can.
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';
import type { NotebookLab, NotebookProfile } from '../../operator/src/api/v1alpha1/index.js';
import {
  LAB_PORT,
  buildNetworkPolicy,
  podSelector,
} from '../../operator/src/controllers/notebooklab/build.js';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
} from '../cluster/index.js';
import { nodeImages } from '../cluster/node/node.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = await realNodeSkipReason(kubeconfig);
const IMAGE = nodeImages().busybox.ref;

/** A defaulted profile whose labs accept ingress only from `proxyNs` (what the apiserver would store). */
function profile(proxyNs: string): NotebookProfile {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookProfile',
    metadata: { name: 'netpol', uid: 'netpol-profile' },
    spec: {
      displayName: 'NetworkPolicy e2e',
      images: {
        aliases: [{ name: 'recommended', image: IMAGE }],
        defaultAlias: 'recommended',
        allowCustomImage: false,
        pullPolicy: 'Never',
      },
      sizes: [
        { name: 'small', requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '1', memory: '64Mi' } },
      ],
      defaultSize: 'small',
      home: { size: '1Gi', mountPath: '/home/jovyan', retainPolicy: 'Delete' },
      culling: { enabled: false, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
      quota: { maxLabs: 2 },
      security: { runAsUser: 1000, runAsGroup: 100, fsGroup: 100, readOnlyRootFilesystem: true },
      network: { enabled: true, ingressNamespaces: [proxyNs] },
    },
  };
}

function lab(name: string, namespace: string, owner: string, uid: string): NotebookLab {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: { name, namespace, uid, generation: 1 },
    spec: { owner, profile: 'netpol', state: 'Running' },
  };
}

/** A pod on the real node; with `serve`, busybox httpd answers `serve` on the lab port. */
function pod(name: string, labels: Record<string, string>, serve?: string): object {
  const script = serve
    ? `echo ${serve} > /www/index.html && exec httpd -f -p ${LAB_PORT} -h /www`
    : 'exec sleep 3600';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      nodeSelector: { type: 'real' },
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'main',
          image: IMAGE,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', script],
          ...(serve
            ? {
                ports: [{ containerPort: LAB_PORT, name: 'http' }],
                // The kubelet probes from the node's address: the policy must not cut it off.
                readinessProbe: { httpGet: { path: '/', port: LAB_PORT }, periodSeconds: 1 },
              }
            : {}),
        },
      ],
    },
  };
}

/** What an HTTP GET from a pod to `ip` did: the body, or how it failed (refused, timed out) and the exit code. */
interface Probe {
  body: string;
  exit: number;
  output: string;
}

describe.skipIf(skipReason !== undefined)(
  `NetworkPolicy on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const ns = { a: '', b: '', proxy: '' };
    const labA = { name: 'alice-lab', uid: '' };
    const labB = { name: 'bob-lab', uid: '' };
    const ips: Record<string, string> = {};
    let labs: { a: NotebookLab; b: NotebookLab } | undefined;

    const apply = (namespace: string, objs: object[]): Promise<string> =>
      kubectl(['apply', '-n', namespace, '-f', '-'], {
        kubeconfig,
        input: objs.map((o) => stringify(o)).join('---\n'),
      });
    const waitReady = async (namespace: string, name: string): Promise<void> => {
      await eventually(
        async () => {
          const p = await kubectlJson<{
            status: { podIP?: string; containerStatuses?: { ready: boolean }[] };
          }>(['get', 'pod', name, '-n', namespace], { kubeconfig });
          if (p.status.containerStatuses?.every((c) => c.ready) !== true || !p.status.podIP) return false;
          ips[`${namespace}/${name}`] = p.status.podIP;
          return true;
        },
        { timeoutMs: 90_000, description: `pod ${namespace}/${name} ready` },
      );
    };
    /** GET http://<ip>:LAB_PORT/ from a pod; `timeout 4` bounds it (busybox's `wget -T` crashes). */
    const probe = async (namespace: string, from: string, ip: string): Promise<Probe> => {
      const out = await kubectl(
        [
          'exec',
          '-n',
          namespace,
          from,
          '--',
          'sh',
          '-c',
          `timeout 4 wget -q -O- http://${ip}:${LAB_PORT}/ 2>&1; echo "exit=$?"`,
        ],
        { kubeconfig },
      );
      const m = /exit=(\d+)\s*$/.exec(out);
      const output = out.replace(/exit=\d+\s*$/, '').trim();
      const exit = Number(m?.[1] ?? -1);
      return { body: exit === 0 ? output : '', exit, output };
    };
    const blocked = (p: Probe): boolean => p.exit !== 0 && p.body === '';
    const diagnostics = async (): Promise<void> => {
      for (const n of [ns.a, ns.b, ns.proxy])
        if (n) console.error(await dumpDiagnostics(n, [], { kubeconfig }));
    };

    beforeAll(async () => {
      ns.a = await createNamespace('np-alice');
      ns.b = await createNamespace('np-bob');
      ns.proxy = await createNamespace('np-proxy');
      // The apiserver assigns the UIDs the builder's podSelector uses; here the test plays the apiserver.
      labA.uid = `${ns.a}-uid`;
      labB.uid = `${ns.b}-uid`;
      labs = { a: lab(labA.name, ns.a, 'alice', labA.uid), b: lab(labB.name, ns.b, 'bob', labB.uid) };
      await Promise.all([
        apply(ns.a, [pod('lab', podSelector(labs.a), 'lab-a')]),
        apply(ns.b, [pod('lab', podSelector(labs.b), 'lab-b')]),
        apply(ns.proxy, [pod('proxy', { app: 'proxy' })]),
      ]);
      await Promise.all([waitReady(ns.a, 'lab'), waitReady(ns.b, 'lab'), waitReady(ns.proxy, 'proxy')]);
    }, 180_000);
    afterAll(async () => {
      for (const n of [ns.a, ns.b, ns.proxy]) if (n) await deleteNamespace(n);
    });

    it('without a policy, one lab reaches the other (the baseline the policy changes)', async () => {
      onTestFailed(diagnostics);
      const p = await probe(ns.b, 'lab', ips[`${ns.a}/lab`] ?? '');
      expect(p).toMatchObject({ exit: 0, body: 'lab-a' });
    });

    it("with the builder's policies: another lab's pod is refused, the proxy namespace gets through", async () => {
      onTestFailed(diagnostics);
      if (!labs) throw new Error('labs not set up');
      const prof = profile(ns.proxy);
      const npA = buildNetworkPolicy(labs.a, prof);
      const npB = buildNetworkPolicy(labs.b, prof);
      if (!npA || !npB)
        throw new Error('the builder wrote no NetworkPolicy for a profile with network.enabled');
      // The builder's owner references point at NotebookLabs that do not exist here; the garbage collector
      // would delete the policies, so they are applied without them.
      for (const np of [npA, npB]) delete np.metadata?.ownerReferences;
      await Promise.all([apply(ns.a, [npA]), apply(ns.b, [npB])]);

      const aIP = ips[`${ns.a}/lab`] ?? '';
      const bIP = ips[`${ns.b}/lab`] ?? '';
      // kube-router applies a new policy within its sync; until then the old answer may still come back.
      const refused = await eventually(
        async () => {
          const p = await probe(ns.b, 'lab', aIP);
          return blocked(p) ? p : false;
        },
        { timeoutMs: 60_000, intervalMs: 1000, description: "lab B's pod blocked from lab A's server" },
      );
      console.log(`lab B -> lab A (${aIP}:${LAB_PORT}): exit ${refused.exit}, "${refused.output}"`);
      // REJECT answers with ICMP port-unreachable, which wget reports as a refused connection (not a timeout).
      expect(refused.output).toMatch(/refused/i);

      const reverse = await probe(ns.a, 'lab', bIP);
      console.log(`lab A -> lab B (${bIP}:${LAB_PORT}): exit ${reverse.exit}, "${reverse.output}"`);
      expect(blocked(reverse)).toBe(true);

      const viaProxy = await probe(ns.proxy, 'proxy', aIP);
      console.log(`proxy -> lab A: exit ${viaProxy.exit}, "${viaProxy.output}"`);
      expect(viaProxy).toMatchObject({ exit: 0, body: 'lab-a' });
      expect(await probe(ns.proxy, 'proxy', bIP)).toMatchObject({ exit: 0, body: 'lab-b' });

      // The kubelet's readiness probes (from the node's address) still pass under the policy.
      const ready = await kubectl(
        ['get', 'pod', 'lab', '-n', ns.a, '-o', 'jsonpath={.status.containerStatuses[0].ready}'],
        { kubeconfig },
      );
      expect(ready).toBe('true');
    }, 120_000);

    it('removing the policy opens the lab again (enforcement follows the API, not a stale rule)', async () => {
      onTestFailed(diagnostics);
      await kubectl(['delete', 'networkpolicy', '--all', '-n', ns.a, '--wait'], { kubeconfig });
      await eventually(
        async () => {
          const p = await probe(ns.b, 'lab', ips[`${ns.a}/lab`] ?? '');
          return p.exit === 0 && p.body === 'lab-a';
        },
        { timeoutMs: 60_000, intervalMs: 1000, description: 'lab A reachable from lab B again' },
      );
      // Lab B still has its policy: lab A's pod stays refused there.
      expect(blocked(await probe(ns.a, 'lab', ips[`${ns.b}/lab`] ?? ''))).toBe(true);
    }, 90_000);
  },
);
