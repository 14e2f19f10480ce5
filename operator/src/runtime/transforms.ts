// Standard informer cache transforms (`SourceSpec.transform`): keep only what reconciles read of a watched kind.
import type { KubeObject } from '../kube/client.js';

/** Header and metadata only: for children compared by their spec-hash annotation (Services, NetworkPolicies). */
export function metadataOnly(o: KubeObject): KubeObject {
  const out: KubeObject = {};
  if (o.apiVersion !== undefined) out.apiVersion = o.apiVersion;
  if (o.kind !== undefined) out.kind = o.kind;
  if (o.metadata !== undefined) out.metadata = o.metadata;
  return out;
}
