// A tiny PersistentVolume provisioner for the local cluster: one PV per pending PVC of our StorageClass.
//
// The StorageClass uses `kubernetes.io/no-provisioner`, so nothing else creates volumes. For each PVC of
// that class without a volume we create a directory under the volume root (mode 0777, like rancher's
// local-path-provisioner, so a non-root Pod on the real node can write it) and a hostPath PV pre-bound to it
// (claimRef with the PVC's UID); kube-controller-manager's real PV binder completes the binding on both sides.
// Released PVs we created are deleted together with their directory (the claim's data is gone, as with a
// `Delete` reclaim policy). Runs as its own process (started and stopped by PID like the other components).
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type KubernetesObject,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';

/** Annotation marking PVs this provisioner owns. */
export const PROVISIONED_BY = 'skyport.io/e2e-provisioner';

/** Options of {@link startProvisioner}. */
export interface ProvisionerOptions {
  kubeconfigPath: string;
  storageClass: string;
  /** Where the volumes' directories are made (default `<tmpdir>/skyport-e2e-volumes`); the cluster passes its own dir. */
  volumeRoot?: string;
  logger?: Logger;
}

/** The default volume root: one directory per claim UID. */
export const defaultVolumeRoot = (): string => join(tmpdir(), 'skyport-e2e-volumes');

/** The directory of the claim with `uid` under `root`. */
export const volumeDir = (root: string, uid: string): string => join(root, uid);

/** The PV a pending claim gets: same size, access modes and volume mode, pre-bound by UID. */
export function volumeForClaim(
  pvc: V1PersistentVolumeClaim,
  storageClass: string,
  volumeRoot = defaultVolumeRoot(),
): V1PersistentVolume {
  const { name, namespace, uid } = pvc.metadata ?? {};
  if (!name || !namespace || !uid) throw new Error('PersistentVolumeClaim lacks metadata.name/namespace/uid');
  const storage = pvc.spec?.resources?.requests?.storage;
  if (!storage)
    throw new Error(
      `PersistentVolumeClaim ${namespace}/${name}: spec.resources.requests.storage is required`,
    );
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${uid}`,
      annotations: { [PROVISIONED_BY]: 'true', 'pv.kubernetes.io/provisioned-by': PROVISIONED_BY },
    },
    spec: {
      capacity: { storage },
      accessModes: pvc.spec?.accessModes?.length ? pvc.spec.accessModes : ['ReadWriteOnce'],
      volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
      storageClassName: storageClass,
      // Retain, then delete it ourselves: a no-provisioner class has no plugin that could delete it.
      persistentVolumeReclaimPolicy: 'Retain',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name, namespace, uid },
      // The provisioner makes the directory first; only a Pod on the real node mounts it (kwok mounts nothing).
      hostPath: { path: volumeDir(volumeRoot, uid), type: 'Directory' },
    },
  };
}

/** Whether a claim still needs a volume from us. */
export function needsVolume(pvc: V1PersistentVolumeClaim, storageClass: string): boolean {
  return (
    pvc.spec?.storageClassName === storageClass &&
    !pvc.spec.volumeName &&
    !pvc.metadata?.deletionTimestamp &&
    (pvc.status?.phase ?? 'Pending') === 'Pending'
  );
}

const statusOf = (err: unknown): number | undefined => (err as { code?: number }).code;

/** Makes the claim's directory, writable by any user: the Pod's uid is not known here (fsGroup does not apply to hostPath). */
export function makeVolumeDir(root: string, uid: string): string {
  const dir = volumeDir(root, uid);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

/** Removes a released volume's directory when it is one of ours (directly under `root`); returns whether it did. */
export function removeVolumeDir(root: string, pv: V1PersistentVolume): boolean {
  const path = pv.spec?.hostPath?.path;
  if (path === undefined) return false;
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.includes('/')) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}

/** Starts informers on PVCs and PVs; resolves once both have listed. */
export async function startProvisioner(opts: ProvisionerOptions): Promise<{ stop(): void }> {
  const log = opts.logger ?? pino({ name: 'provisioner' });
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const volumeRoot = opts.volumeRoot ?? defaultVolumeRoot();
  const inflight = new Set<string>();

  const provision = async (pvc: V1PersistentVolumeClaim): Promise<void> => {
    if (!needsVolume(pvc, opts.storageClass)) return;
    const uid = pvc.metadata?.uid ?? '';
    // The claim stays Pending until kube-controller-manager's binder gets to it; while its volume is in our
    // cache, re-creating it would only be a rejected write (thousands of them under a 1,000-claim load).
    if (inflight.has(uid) || pvs.get(`pvc-${uid}`) !== undefined) return;
    inflight.add(uid);
    try {
      const body = volumeForClaim(pvc, opts.storageClass, volumeRoot);
      makeVolumeDir(volumeRoot, uid);
      await core.createPersistentVolume({ body });
      log.info({ namespace: pvc.metadata?.namespace, pvc: pvc.metadata?.name }, 'Created PersistentVolume');
    } catch (err) {
      if (statusOf(err) !== 409)
        log.error({ err, pvc: pvc.metadata?.name }, 'Failed to create PersistentVolume');
    } finally {
      inflight.delete(uid);
    }
  };
  const reclaim = async (pv: V1PersistentVolume): Promise<void> => {
    if (pv.metadata?.annotations?.[PROVISIONED_BY] !== 'true') return;
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') return;
    try {
      await core.deletePersistentVolume({ name: pv.metadata.name ?? '' });
      const removed = removeVolumeDir(volumeRoot, pv);
      log.info({ pv: pv.metadata.name, removed }, 'Deleted released PersistentVolume');
    } catch (err) {
      if (statusOf(err) !== 404)
        log.error({ err, pv: pv.metadata.name }, 'Failed to delete PersistentVolume');
    }
  };

  const pvcs = makeInformer(kc, '/api/v1/persistentvolumeclaims', () =>
    core.listPersistentVolumeClaimForAllNamespaces(),
  );
  const pvs = makeInformer(kc, '/api/v1/persistentvolumes', () => core.listPersistentVolume());
  let stopped = false;
  // client-node informers stop on any non-410 error; restart them with a short delay.
  const restartOnError = <T extends KubernetesObject>(inf: Informer<T>, what: string): void => {
    inf.on('error', (err: unknown) => {
      if (stopped) return;
      log.warn({ err: String(err), what }, 'Restarted informer after error');
      setTimeout(() => void inf.start().catch(() => undefined), 1000);
    });
  };
  restartOnError(pvcs, 'persistentvolumeclaims');
  restartOnError(pvs, 'persistentvolumes');
  pvcs.on('add', (o) => void provision(o));
  pvcs.on('update', (o) => void provision(o));
  pvs.on('add', (o) => void reclaim(o));
  pvs.on('update', (o) => void reclaim(o));
  await Promise.all([pvcs.start(), pvs.start()]);
  // Safety net for missed events: re-check every claim periodically.
  const resync = setInterval(() => {
    for (const pvc of pvcs.list()) void provision(pvc);
    for (const pv of pvs.list()) void reclaim(pv);
  }, 5000);
  return {
    stop(): void {
      stopped = true;
      clearInterval(resync);
      void pvcs.stop();
      void pvs.stop();
    },
  };
}
