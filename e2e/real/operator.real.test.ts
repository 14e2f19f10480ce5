// Tier "real": the operator as a real Deployment. `helm install` of charts/skyport with the image from
// `npm run images`, in a namespace enforcing Pod Security "restricted": both replicas Ready through the probes the
// real kubelet calls; the leader stops promptly on SIGTERM; deleting it hands the Lease to a live replica (the
// standby, or the replacement Pod when it asks first), which brings a NotebookLab created meanwhile to Ready with a
// real JupyterLab server.
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
} from '../cluster/index.js';
import { REAL_NODE_NAME } from '../cluster/node/config.js';
import { builtImage, importBuiltImages, missingImages } from '../cluster/node/node.js';
import {
  RESTRICTED_LABELS,
  deployOperator,
  leaseHolder,
  openHostPathVolumes,
  undeployOperator,
  type DeployedOperator,
} from '../operator/deploy.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(['operator', 'jupyterlab']);

interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { imagePullPolicy: string; image: string }[] };
  status: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { ready: boolean; restartCount: number; state: { running?: object } }[];
  };
}

const isReady = (p: PodView): boolean =>
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe.skipIf(skipReason !== undefined)(
  `the operator as a real Deployment${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = { kubeconfig };
    let labs = '';
    let op: DeployedOperator | undefined;
    const pods = async (): Promise<PodView[]> =>
      (
        await kubectlJson<{ items: PodView[] }>(
          ['get', 'pods', '-n', op?.namespace ?? '', '-l', 'app.kubernetes.io/component=operator'],
          run,
        )
      ).items;
    const diagnose = (): void =>
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(labs, [], run));
        if (op) console.error(await dumpDiagnostics(op.namespace, [], run));
      });

    beforeAll(async () => {
      labs = await createNamespace('real-op');
      // The lab image is imported while the operator starts: both are needed before the lab below.
      const lab = importBuiltImages(dirname(kubeconfig), ['jupyterlab']);
      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: 'skyport-real',
        namespace: `${labs}-system`,
        // Other real-tier files run their own operators: this one manages only its test namespace.
        watchNamespaces: [labs],
        log: (m) => console.log(`[operator.real] ${m}`),
      });
      await lab;
    });
    afterAll(async () => {
      if (labs) {
        // Labs first, while the operator still runs (it removes their finalizers).
        await kubectl(['delete', 'notebooklabs', '--all', '-n', labs, '--timeout=60s'], run).catch(
          () => undefined,
        );
        await deleteNamespace(labs);
      }
      await kubectl(['delete', 'notebookprofile', `${labs}-jupyter`, '--ignore-not-found'], run).catch(
        () => undefined,
      );
      if (op) await undeployOperator(kubeconfig, op);
    });

    it('helm install runs both replicas on the real node, Ready through real probes, under restricted Pod Security', async () => {
      diagnose();
      const ns = await kubectlJson<{ metadata: { labels: Record<string, string> } }>(
        ['get', 'namespace', op?.namespace ?? ''],
        run,
      );
      expect(ns.metadata.labels).toMatchObject(RESTRICTED_LABELS);
      const ps = await pods();
      expect(ps).toHaveLength(2);
      for (const p of ps) {
        expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
        expect(p.spec.containers[0]?.image).toBe(op?.image);
        expect(p.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
        expect(isReady(p)).toBe(true);
        expect(p.status.containerStatuses?.[0]?.restartCount).toBe(0);
      }
      // Ready on the real node means the kubelet's HTTP probes to /readyz on the pod IP succeeded.
      const leader = await leaseHolder(kubeconfig, op as DeployedOperator);
      expect(ps.map((p) => p.metadata.name)).toContain(leader);
      // A Pod that breaks "restricted" is refused in that namespace (the enforcement is real).
      await expect(
        kubectl(['apply', '-n', op?.namespace ?? '', '-f', '-'], {
          ...run,
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'privileged' },
            spec: { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] },
          }),
        }),
      ).rejects.toThrow(/violates PodSecurity "restricted/);
    });

    it('deleting the leader Pod stops it within seconds; a live replica takes the Lease and starts a new lab', async () => {
      diagnose();
      const d = op as DeployedOperator;
      const leader = await leaseHolder(kubeconfig, d);
      const other = (await pods()).map((p) => p.metadata.name).find((n) => n !== leader);
      expect(other).toBeDefined();
      const t0 = performance.now();
      await kubectl(['delete', 'pod', leader, '-n', d.namespace, '--wait=true', '--timeout=60s'], run);
      const stopSeconds = (performance.now() - t0) / 1000;
      console.log(`[operator.real] leader Pod ${leader} deleted in ${stopSeconds.toFixed(1)} s`);
      // terminationGracePeriodSeconds is 30: a process that ignored SIGTERM would take that long.
      expect(stopSeconds).toBeLessThan(10);
      // A lab created while no replica leads.
      await kubectl(['apply', '-f', '-'], {
        ...run,
        input: [
          {
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookProfile',
            metadata: { name: `${labs}-jupyter` },
            spec: {
              displayName: 'JupyterLab (local image)',
              images: {
                aliases: [{ name: 'lab', image: builtImage('jupyterlab')?.ref }],
                defaultAlias: 'lab',
                pullPolicy: 'IfNotPresent',
              },
              sizes: [
                {
                  name: 'small',
                  requests: { cpu: '100m', memory: '256Mi' },
                  limits: { cpu: '1', memory: '1Gi' },
                },
              ],
              defaultSize: 'small',
              home: { size: '1Gi', retainPolicy: 'Delete' },
            },
          },
          {
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookLab',
            metadata: { name: 'failover', namespace: labs },
            spec: { owner: 'alice', profile: `${labs}-jupyter` },
          },
        ]
          .map((o) => stringify(o))
          .join('---\n'),
      });
      // The leader released the Lease on its way out: the standby takes it at its next retry, unless the Deployment's
      // replacement Pod, starting meanwhile, asks first (it did once in CI). Either is a live replica leading.
      let newLeader = '';
      await eventually(
        async () => {
          newLeader = await leaseHolder(kubeconfig, d);
          return newLeader !== '' && newLeader !== leader;
        },
        { timeoutMs: 60_000, description: `Lease ${d.name} held by a replica other than ${leader}` },
      );
      const live = (await pods()).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
      expect(live).toContain(newLeader);
      console.log(
        `[operator.real] Lease taken by ${newLeader === other ? 'the standby' : 'the replacement Pod'} ${newLeader}`,
      );
      const t1 = performance.now();
      await eventually(
        async () => {
          await openHostPathVolumes(kubeconfig, labs);
          const lab = await kubectlJson<{
            status?: { phase?: string; message?: string; conditions?: { type: string; status: string }[] };
          }>(['get', 'notebooklab', 'failover', '-n', labs], run);
          if (lab.status?.phase !== 'Running')
            throw new Error(`lab ${lab.status?.phase ?? 'no status'}: ${lab.status?.message ?? ''}`);
          expect(lab.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
        },
        { timeoutMs: 180_000, intervalMs: 250, description: 'lab failover Ready' },
      );
      console.log(
        `[operator.real] lab Ready ${((performance.now() - t1) / 1000).toFixed(1)} s after the takeover`,
      );
      // Its Pod runs the real JupyterLab on the real node (Ready = the kubelet's probe of `<base_url>api`).
      const labPods = await kubectlJson<{ items: PodView[] }>(
        ['get', 'pods', '-n', labs, '-l', 'app.kubernetes.io/component=lab'],
        run,
      );
      expect(labPods.items.map((p) => p.spec.nodeName)).toEqual([REAL_NODE_NAME]);
      // The Deployment replaces the deleted Pod; the new one stands by (Ready, not leading).
      await eventually(
        async () => (await pods()).filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length === 2,
        {
          timeoutMs: 120_000,
          description: 'two operator replicas Ready again',
        },
      );
      expect(await leaseHolder(kubeconfig, d)).toBe(newLeader);
    });

    // Measured once before the kube transport fix (2026-12-02): 32.9 s. Its informers' watches held every socket of
    // the request pool, so its Lease request queued forever and the graceful stop waited out the grace period.
    it('a replica deleted while it is still starting stops within seconds, not after the 30 s grace period', async () => {
      diagnose();
      const d = op as DeployedOperator;
      const before = new Set((await pods()).map((p) => p.metadata.name));
      await kubectl(['scale', 'deployment', d.name, '-n', d.namespace, '--replicas=3'], run);
      try {
        // Caught while its container runs but is not Ready yet: Node is still loading the operator's modules.
        const starting = await eventually(
          async () => {
            const p = (await pods()).find((x) => !before.has(x.metadata.name));
            const c = p?.status.containerStatuses?.[0];
            if (p === undefined || c?.state.running === undefined || c.ready) return false;
            return p.metadata.name;
          },
          { timeoutMs: 120_000, intervalMs: 100, description: 'a third replica running, not yet Ready' },
        );
        const t0 = performance.now();
        await kubectl(['delete', 'pod', starting, '-n', d.namespace, '--wait=true', '--timeout=60s'], run);
        const seconds = (performance.now() - t0) / 1000;
        console.log(`[operator.real] starting replica ${starting} deleted in ${seconds.toFixed(1)} s`);
        expect(seconds).toBeLessThan(10);
      } finally {
        await kubectl(['scale', 'deployment', d.name, '-n', d.namespace, '--replicas=2'], run);
      }
    });
  },
);
