// Shapes and fixtures of the NotebookLab e2e tests.

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface Lab {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[] };
  spec: { state: string };
  status?: {
    phase?: string;
    message?: string;
    homeClaimName?: string;
    url?: string;
    conditions?: Cond[];
    observedGeneration?: number;
    progress?: { name: string; state: string; startedAt?: string; finishedAt?: string }[];
    lastTermination?: { reason: string; message?: string };
    cullAt?: string;
    lastActivity?: string;
    image?: string;
  };
}
export interface Obj {
  metadata: {
    name: string;
    uid: string;
    ownerReferences?: { kind: string; uid: string; controller?: boolean }[];
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** A NotebookProfile offering one image alias and two sizes (one larger than any kwok node); `over` replaces spec fields. */
export function profile(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookProfile',
    metadata: { name },
    spec: {
      images: {
        aliases: [{ name: 'recommended', image: 'quay.io/jupyter/scipy-notebook:2025-06-02' }],
        defaultAlias: 'recommended',
      },
      sizes: [
        { name: 'small', requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        // Larger than any kwok node (32 CPU): the scheduler reports Unschedulable.
        { name: 'enormous', requests: { cpu: '500', memory: '2Gi' }, limits: { cpu: '500', memory: '2Gi' } },
      ],
      defaultSize: 'small',
      home: { size: '1Gi', retainPolicy: 'Retain' },
      culling: { enabled: false, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
      quota: { maxLabs: 10 },
      network: { enabled: true, ingressNamespaces: ['skyport-proxy'] },
      ...over,
    },
  };
}
