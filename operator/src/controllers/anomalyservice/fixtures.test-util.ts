// Shared fixtures for the AnomalyService unit tests: a service with every default filled in, as stored.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import type { BuildContext } from './names.js';

/** A defaulted AnomalyService in `telemetry`; `over` replaces spec fields. */
export function serviceFixture(
  over: Partial<AnomalyService['spec']> = {},
  meta: Partial<AnomalyService['metadata']> = {},
): AnomalyService {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'AnomalyService',
    metadata: {
      name: 'efd',
      namespace: 'telemetry',
      uid: '0b7c3f0e-0000-4000-8000-00000000a001',
      generation: 1,
      ...meta,
    },
    spec: {
      api: { replicas: 1, serviceType: 'ClusterIP' },
      workers: { replicas: 2, threads: 2 },
      redis: { managed: { size: '10Gi' } },
      ...over,
    },
  };
}

/** The build context the golden files use. */
export const CONTEXT: BuildContext = {
  image: 'ghcr.io/skyport/anomaly:0.1.0',
  redisImage: 'docker.io/library/redis:7.2.5',
  apiIngressNamespaces: ['skyport-system'],
  token: 'golden-token-0123456789abcdef',
};
