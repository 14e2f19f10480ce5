// What the NotebookLab controller keeps of its children in the informer cache: only the fields reconcile reads.
// At 1,000 labs the full objects (Pod specs with the apiserver's defaults, Service and NetworkPolicy specs) are
// most of the operator's heap; and a Secret's data is kept only for the token key.
import type { KubeObject } from '../../kube/index.js';
import { metadataOnly } from '../../runtime/index.js';
import { TOKEN_KEY } from './build.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A lab Pod as `readPod`, the culler and stop read it: the whole status, and of the spec only `nodeName` and
 * each container's name, image and resources (the image and memory limit name a failure).
 */
export function podForCache(o: KubeObject): KubeObject {
  const spec = isObject(o['spec']) ? o['spec'] : {};
  const containers = Array.isArray(spec['containers']) ? (spec['containers'] as unknown[]) : [];
  const trimmed: Json = {
    containers: containers.filter(isObject).map((c) => {
      const out: Json = { name: c['name'] };
      if (c['image'] !== undefined) out['image'] = c['image'];
      if (c['resources'] !== undefined) out['resources'] = c['resources'];
      return out;
    }),
  };
  if (spec['nodeName'] !== undefined) trimmed['nodeName'] = spec['nodeName'];
  const out: KubeObject = { ...metadataOnly(o), spec: trimmed };
  if (o['status'] !== undefined) out['status'] = o['status'];
  return out;
}

/** A token Secret with only the token key of its data: nothing else of a Secret is read, or should be held. */
export function secretForCache(o: KubeObject): KubeObject {
  const data = isObject(o['data']) ? o['data'] : {};
  const out: KubeObject = metadataOnly(o);
  if (typeof o['type'] === 'string') out['type'] = o['type'];
  if (data[TOKEN_KEY] !== undefined) out['data'] = { [TOKEN_KEY]: data[TOKEN_KEY] };
  return out;
}

/** A StorageClass: metadata (name, the default-class annotation) and `volumeBindingMode` (see home.ts). */
export function storageClassForCache(o: KubeObject): KubeObject {
  const out = metadataOnly(o);
  if (typeof o['volumeBindingMode'] === 'string') out['volumeBindingMode'] = o['volumeBindingMode'];
  return out;
}

/** A home PVC: metadata (spec hash, labels), `spec.storageClassName` and `status.phase` (Bound or not). */
export function pvcForCache(o: KubeObject): KubeObject {
  const out: KubeObject = metadataOnly(o);
  const spec = o['spec'];
  if (isObject(spec) && typeof spec['storageClassName'] === 'string')
    out['spec'] = { storageClassName: spec['storageClassName'] };
  const status = o['status'];
  if (isObject(status) && status['phase'] !== undefined) out['status'] = { phase: status['phase'] };
  return out;
}
