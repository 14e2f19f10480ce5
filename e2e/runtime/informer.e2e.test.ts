// The informer against the real apiserver: add/update/delete, and recovery after forced watch failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube, type KubeObject } from '../../operator/src/kube/index.js';
import { Informer } from '../../operator/src/runtime/index.js';
import { dirname } from 'node:path';
import { createNamespace, deleteNamespace, eventually, readClusterState } from '../cluster/index.js';
import { FaultProxy, adminKubeconfig, apiserverTarget, proxiedKubeconfig, sleep } from './support.js';

let kubeconfig: string;
let kube: Kube;
let ns: string;

beforeAll(async () => {
  kubeconfig = adminKubeconfig();
  kube = Kube.fromConfig({ kubeconfig });
  ns = await createNamespace('rt-informer', { kubeconfig });
});

afterAll(async () => {
  await deleteNamespace(ns, { kubeconfig });
});

const cm = (name: string, value: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels: { suite: 'informer' } },
  data: { v: value },
});

function recorder(inf: Informer): string[] {
  const log: string[] = [];
  inf.on({
    add: (o) => log.push(`add ${o.metadata?.name}`),
    update: (o) => log.push(`update ${o.metadata?.name}=${(o.data as Record<string, string>).v}`),
    delete: (o) => log.push(`delete ${o.metadata?.name}`),
  });
  return log;
}

describe('Informer on the real apiserver', () => {
  it('sees add, update and delete; the owner index follows ownerReferences', async () => {
    const owner = await kube.apply(cm('owner', '0'));
    await kube.apply({ ...cm('pre', '1') });
    const inf = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      labelSelector: 'suite=informer',
      resyncPeriodMs: 0,
    });
    const log = recorder(inf);
    inf.start();
    await inf.synced;
    expect(log.sort()).toEqual(['add owner', 'add pre']);
    log.length = 0;
    await kube.apply({
      ...cm('child', '1'),
      metadata: {
        name: 'child',
        namespace: ns,
        labels: { suite: 'informer' },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'owner',
            uid: owner.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
    });
    await kube.apply(cm('pre', '2'));
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'pre' });
    await eventually(() => expect(log).toEqual(['add child', 'update pre=2', 'delete pre']), {
      timeoutMs: 10_000,
    });
    expect(inf.byOwner(owner.metadata?.uid ?? '').map((o) => o.metadata?.name)).toEqual(['child']);
    expect(inf.get({ namespace: ns, name: 'pre' })).toBeUndefined();
    await inf.stop();
  });

  it('recovers after the connection is reset mid-watch and while the apiserver is unreachable', async () => {
    const proxy = new FaultProxy(apiserverTarget(kubeconfig));
    await proxy.listen();
    const via = Kube.fromConfig({ kubeconfig: proxiedKubeconfig(kubeconfig, proxy.port).path });
    await kube.apply(cm('r1', '1'));
    const inf = new Informer(via, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      labelSelector: 'suite=informer',
      resyncPeriodMs: 0,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const log = recorder(inf);
    inf.start();
    await inf.synced;
    await sleep(300);
    log.length = 0;

    // 1. An abrupt reset of the watch connection (client-node's own informer would stop here).
    proxy.cut();
    await sleep(100);
    await kube.apply(cm('r1', '2'));
    await eventually(() => expect(log).toContain('update r1=2'), {
      timeoutMs: 15_000,
      description: 'update after reset',
    });
    expect(inf.restarts).toBeGreaterThanOrEqual(1);

    // 2. The apiserver is unreachable for a while; changes made meanwhile (including a delete) arrive after.
    proxy.pause();
    await kube.apply(cm('r2', '1'));
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'r1' });
    await sleep(2500);
    const restartsWhileDown = inf.restarts;
    expect(restartsWhileDown).toBeGreaterThanOrEqual(2);
    proxy.resume();
    await eventually(() => expect(log).toEqual(expect.arrayContaining(['add r2', 'delete r1'])), {
      timeoutMs: 15_000,
      description: 'changes made while unreachable',
    });
    expect(inf.get({ namespace: ns, name: 'r1' })).toBeUndefined();
    expect(inf.get({ namespace: ns, name: 'r2' })).toBeDefined();
    // No duplicate deliveries: each change was seen exactly once.
    expect(log.filter((l) => l === 'delete r1')).toHaveLength(1);
    expect(log.filter((l) => l === 'add r2')).toHaveLength(1);
    await inf.stop();
    await proxy.close();
  });

  it('restarts a watch that went silent (watchdog) and keeps delivering', async () => {
    const inf = new Informer(kube, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      labelSelector: 'suite=informer',
      resyncPeriodMs: 0,
      watchdogMs: 1500,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    const log = recorder(inf);
    inf.start();
    await inf.synced;
    await sleep(4000); // nothing changes: the watchdog fires at least once
    expect(inf.restarts).toBeGreaterThanOrEqual(1);
    await kube.apply(cm('late', '1'));
    await eventually(() => expect(log).toContain('add late'), { timeoutMs: 10_000 });
    await inf.stop();
  });

  it('relists after a real 410 Gone: etcd compacted its resourceVersion away while it was cut off', async () => {
    // Events bypass kube-apiserver's watch cache (its default), so a watch resumes from etcd; once etcd has
    // compacted past the informer's resourceVersion it refuses, and the apiserver answers 410 Gone.
    const etcdPort = readClusterState(dirname(kubeconfig))?.ports['etcd'];
    if (etcdPort === undefined) throw new Error(`no local cluster state next to ${kubeconfig}`);
    const event = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: ns },
      reason: 'InformerTest',
      message: name,
      type: 'Normal',
      source: { component: 'informer-e2e' },
    });
    const proxy = new FaultProxy(apiserverTarget(kubeconfig));
    await proxy.listen();
    const via = Kube.fromConfig({ kubeconfig: proxiedKubeconfig(kubeconfig, proxy.port).path });
    await kube.create(event('g1'));
    const inf = new Informer(via, {
      apiVersion: 'v1',
      kind: 'Event',
      namespace: ns,
      resyncPeriodMs: 0,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const log: string[] = [];
    inf.on({
      add: (o) => log.push(`add ${o.metadata?.name}`),
      update: (o) => log.push(`update ${o.metadata?.name}`),
      delete: (o) => log.push(`delete ${o.metadata?.name}`),
    });
    inf.start();
    await inf.synced;
    expect(log).toEqual(['add g1']);
    expect(inf.lists).toBe(1);

    proxy.pause();
    await kube.create(event('g2'));
    await kube.delete({ apiVersion: 'v1', kind: 'Event', namespace: ns, name: 'g1' });
    const { resourceVersion } = await kube.list('v1', 'Event', { namespace: ns });
    const compacted = await fetch(`http://127.0.0.1:${etcdPort}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision: resourceVersion, physical: true }),
    });
    expect(compacted.status, await compacted.text()).toBe(200);
    proxy.resume();

    // Each change once, in whatever order the relist's difference yields them.
    await eventually(() => expect([...log].sort()).toEqual(['add g1', 'add g2', 'delete g1']), {
      timeoutMs: 15_000,
      description: 'changes made while cut off, from the relist',
    });
    // Only a 410 makes the informer list again (a failed or closed watch resumes from its resourceVersion).
    expect(inf.lists).toBe(2);
    expect(inf.get({ namespace: ns, name: 'g1' })).toBeUndefined();
    await inf.stop();
    await proxy.close();
  });
});
