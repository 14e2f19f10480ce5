// Pure builders of an ImageCollection's results server (spec.results.serve; the cutout runner's `serve`): its
// ServiceAccount, the Role letting it read the CutoutJobs of its namespace (who owns a job, where its files are),
// the RoleBinding, the Deployment and its Service — the pattern of a Catalog's TAP service (../catalog/build.ts).
// No I/O, no clock.
import type { ImageCollection } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import {
  childLabels,
  childMeta,
  childName,
  LABELS,
  restrictedPodSecurity,
  workloadIdentity,
} from '../../meta/index.js';
import { withHash } from '../../runtime/index.js';
import { RUNNER_UID } from '../cutoutjob/runner-pod.js';

/** The `app.kubernetes.io/component` of the results server's children. */
export const RESULTS_COMPONENT = 'results';
/** The server's port (CUTOUT_SERVE_PORT). */
export const RESULTS_PORT = 8080;
/** Mounts in the server's pod. */
export const RESULTS_MOUNTS = { results: '/results', secret: '/var/run/secrets/cutout-results' } as const;
/** Keys of the admin's Secret (spec.results.serve.secretName): the TAP Secret's. */
export const RESULTS_SECRET_KEYS = { tokens: 'tokens', signingKey: 'signing-key' } as const;
/** What the server's ServiceAccount may do: read CutoutJobs of its namespace, nothing else. */
export const RESULTS_ROLE_RULES = [
  { apiGroups: ['skyport.io'], resources: ['cutoutjobs'], verbs: ['get', 'list'] },
];
/** How long a file URL the server signs stays valid, in seconds. */
export const RESULTS_URL_SECONDS = 900;

/** A collection's results children, each hashed ({@link withHash}). */
export interface ResultsChildren {
  readonly serviceAccount: KubeObject;
  readonly role: KubeObject;
  readonly roleBinding: KubeObject;
  readonly deployment: KubeObject;
  readonly service: KubeObject;
}

/** The name of every results child: `<collection>-results`. */
export function resultsServerName(c: ImageCollection): string {
  return childName(c.metadata.name ?? '', RESULTS_COMPONENT);
}

/** The in-cluster base URL of the collection's results server, or undefined when it has none. */
export function resultsServerUrl(c: ImageCollection): string | undefined {
  const s = c.spec.results.serve;
  if (s === undefined || !s.enabled) return undefined;
  return `http://${resultsServerName(c)}.${c.metadata.namespace ?? ''}.svc:${RESULTS_PORT}`;
}

/** Where the owner lists a CutoutJob's results, or undefined when its collection does not serve them. */
export function cutoutResultsUrl(c: ImageCollection | undefined, jobName: string): string | undefined {
  const base = c === undefined ? undefined : resultsServerUrl(c);
  return base === undefined ? undefined : `${base}/cutoutjobs/${jobName}`;
}

/**
 * The results server's children, or undefined when `spec.results.serve` is unset or disabled. Pod Security
 * "restricted" (the runner's uid, whose files it serves; read-only root, no capabilities, RuntimeDefault seccomp);
 * the results claim read-only (its `path` as subPath, so `cutoutjobs/` is at the mount's root); the Secret's
 * `tokens` and `signing-key`; readiness and liveness on /healthz.
 */
export function buildResultsServer(c: ImageCollection, image: string): ResultsChildren | undefined {
  const s = c.spec.results.serve;
  if (s === undefined || !s.enabled) return undefined;
  const namespace = c.metadata.namespace ?? '';
  const owner = {
    apiVersion: c.apiVersion,
    kind: c.kind,
    metadata: { name: c.metadata.name ?? '', namespace, uid: c.metadata.uid ?? '' },
  };
  const name = resultsServerName(c);
  const meta = { ...childMeta(owner, RESULTS_COMPONENT, { name }), namespace };
  const selector = { [LABELS.ownerUid]: owner.metadata.uid, [LABELS.component]: RESULTS_COMPONENT };
  const res = c.spec.results.persistentVolumeClaim;
  const env: [string, string][] = [
    ['CUTOUT_SERVE_PORT', String(RESULTS_PORT)],
    ['CUTOUT_SERVE_RESULTS_DIR', RESULTS_MOUNTS.results],
    ['CUTOUT_SERVE_COLLECTION', c.metadata.name ?? ''],
    ['CUTOUT_SERVE_NAMESPACE', namespace],
    ['CUTOUT_SERVE_TOKENS_FILE', `${RESULTS_MOUNTS.secret}/${RESULTS_SECRET_KEYS.tokens}`],
    ['CUTOUT_SERVE_SIGNING_KEY_FILE', `${RESULTS_MOUNTS.secret}/${RESULTS_SECRET_KEYS.signingKey}`],
    ['CUTOUT_SERVE_URL_SECONDS', String(RESULTS_URL_SECONDS)],
  ];
  const probe = { httpGet: { path: '/healthz', port: 'http' }, timeoutSeconds: 5 };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: childLabels(owner, RESULTS_COMPONENT) },
        spec: {
          serviceAccountName: name,
          // The server reads CutoutJobs (their owner and uid) with this ServiceAccount's token.
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurity(RUNNER_UID),
          containers: [
            {
              name: 'server',
              image,
              imagePullPolicy: 'IfNotPresent',
              args: ['serve'],
              ports: [{ name: 'http', containerPort: RESULTS_PORT, protocol: 'TCP' }],
              env: env.map(([n, value]) => ({ name: n, value })),
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '1', memory: '256Mi' },
              },
              // Every 2 s, as the TAP's (../catalog/build.ts): a new pod is Ready ~2 s after it listens, not ~10.
              readinessProbe: { ...probe, periodSeconds: 2 },
              livenessProbe: { ...probe, initialDelaySeconds: 5, periodSeconds: 20 },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                {
                  name: 'results',
                  mountPath: RESULTS_MOUNTS.results,
                  readOnly: true,
                  ...(res.path === '' ? {} : { subPath: res.path }),
                },
                { name: 'secret', mountPath: RESULTS_MOUNTS.secret, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'results', persistentVolumeClaim: { claimName: res.claimName, readOnly: true } },
            {
              name: 'secret',
              secret: {
                secretName: s.secretName,
                items: Object.values(RESULTS_SECRET_KEYS).map((k) => ({ key: k, path: k })),
              },
            },
          ],
        },
      },
    },
  };
  const identity = workloadIdentity(meta, name, namespace, RESULTS_ROLE_RULES);
  return {
    serviceAccount: withHash(identity.serviceAccount),
    role: withHash(identity.role),
    roleBinding: withHash(identity.roleBinding),
    deployment: withHash(deployment),
    service: withHash({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'http', port: RESULTS_PORT, targetPort: 'http', protocol: 'TCP' }],
      },
    }),
  };
}
