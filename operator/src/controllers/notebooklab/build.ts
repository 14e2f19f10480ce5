// Pure builder (nublado's first layer): every object a NotebookLab needs, from the lab and its profile. No I/O,
// no clock, no randomness — the token is passed in — so the result is golden-file tested.
import type {
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1NetworkPolicySpec,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1Service,
  V1EnvVar,
  V1Volume,
  V1VolumeMount,
} from '../../kube/index.js';
import type { NotebookLab, NotebookProfile, NotebookSize } from '../../api/v1alpha1/index.js';
import { parseQuantity } from '../../api/units.js';
import { TerminalError } from '../../errors.js';
import { childMeta, childName, LABELS } from '../../meta/index.js';
import type { OwnerLike } from '../../meta/index.js';
import { SCRATCH_PATH, checkMounts, profileProblem } from './validity.js';

/** Port the Jupyter server listens on, in the Pod and on the Service. */
export const LAB_PORT = 8888;
/** Key of the Jupyter token in the per-lab Secret. */
export const TOKEN_KEY = 'token';
/** Finalizer that applies the profile's home retain policy when a lab is deleted. */
export const HOME_FINALIZER = 'skyport.io/home-volume';

/** Child components; each is the `app.kubernetes.io/component` label and the name suffix. */
export const COMPONENT = { home: 'home', token: 'token', lab: 'lab' } as const;

/** Deterministic names of a lab's children. Pod, Service and NetworkPolicy share `<lab>-lab`. */
export interface LabNames {
  home: string;
  token: string;
  pod: string;
  service: string;
  networkPolicy: string;
}

/** Names of the children of the lab called `name`. */
export function labNames(name: string): LabNames {
  const lab = childName(name, COMPONENT.lab);
  return {
    home: childName(name, COMPONENT.home),
    token: childName(name, COMPONENT.token),
    pod: lab,
    service: lab,
    networkPolicy: lab,
  };
}

/** The profile's choices applied to one lab. */
export interface ResolvedLab {
  image: string;
  size: NotebookSize;
  /** Jupyter `base_url`: `/user/<owner>/<lab>/`. */
  basePath: string;
  /** `status.url`. */
  url: string;
  homeBytes: number;
}

/**
 * Applies the profile to the lab: image (alias, default alias or an allowed custom image), size, base path
 * and URL.
 *
 * @throws TerminalError `InvalidSpec` naming the field when the lab asks for something the profile does not offer,
 * or mounts a volume where the home volume or the scratch space is.
 */
export function resolveLab(lab: NotebookLab, profile: NotebookProfile): ResolvedLab {
  const spec = lab.spec;
  const p = profile.spec;
  const profileName = profile.metadata.name ?? spec.profile;
  let image: string;
  if (spec.image !== undefined) {
    if (!p.images.allowCustomImage) {
      throw new TerminalError(
        'InvalidSpec',
        `spec.image: profile ${profileName} does not allow custom images; choose one of imageAlias ${aliasList(profile)}`,
        { detail: { field: 'spec.image' } },
      );
    }
    image = spec.image;
  } else {
    const alias = spec.imageAlias ?? p.images.defaultAlias ?? p.images.aliases[0]?.name;
    const found = p.images.aliases.find((a) => a.name === alias);
    if (found === undefined) {
      const field = spec.imageAlias === undefined ? 'spec.imageAlias (profile default)' : 'spec.imageAlias';
      throw new TerminalError(
        'InvalidSpec',
        `${field}: alias ${JSON.stringify(alias ?? '')} is not offered by profile ${profileName}; choose one of ${aliasList(profile)}`,
        { detail: { field: 'spec.imageAlias' } },
      );
    }
    image = found.image;
  }
  const sizeName = spec.size ?? p.defaultSize;
  const size = p.sizes.find((s) => s.name === sizeName);
  if (size === undefined) {
    throw new TerminalError(
      'InvalidSpec',
      `spec.size: size ${JSON.stringify(sizeName)} is not offered by profile ${profileName}; choose one of ${p.sizes.map((s) => s.name).join(', ')}`,
      { detail: { field: 'spec.size' } },
    );
  }
  checkMounts(lab, p.home.mountPath, profileName);
  const name = lab.metadata.name ?? '';
  const ns = lab.metadata.namespace ?? 'default';
  const basePath = `/user/${encodeURIComponent(spec.owner)}/${name}/`;
  const url =
    p.urlTemplate !== undefined
      ? p.urlTemplate.replace(/\{(namespace|name|owner)\}/g, (_m, k: string) =>
          k === 'namespace' ? ns : k === 'name' ? name : encodeURIComponent(spec.owner),
        )
      : `http://${labNames(name).service}.${ns}.svc:${LAB_PORT}${basePath}lab`;
  return { image, size, basePath, url, homeBytes: parseQuantity(p.home.size) };
}

function aliasList(profile: NotebookProfile): string {
  const names = profile.spec.images.aliases.map((a) => a.name);
  return names.length === 0 ? '(none)' : names.join(', ');
}

/** Inputs besides the lab and profile. */
export interface BuildContext {
  /** The lab's Jupyter token: read from the existing Secret, or freshly generated once by the caller. */
  token: string;
  /**
   * Extra Pod annotations passed through from the lab (the operator's `SKYPORT_POD_ANNOTATION_PREFIXES`, e.g.
   * for a service mesh or, in e2e, the kwok fault annotations). They never override skyport's own.
   */
  podAnnotations?: Readonly<Record<string, string>>;
}

/**
 * A NetworkPolicy as JSON on the wire. client-node's model names the peer list `_from` (a reserved word in its
 * generator) and only its serializer renames it; the kube layer sends plain JSON, so we build `from`.
 */
export type NetworkPolicyJson = Omit<V1NetworkPolicy, 'spec'> & {
  spec: Omit<V1NetworkPolicySpec, 'ingress'> & {
    ingress: { from: V1NetworkPolicyPeer[]; ports: V1NetworkPolicyPort[] }[];
  };
};

/** Every object a lab needs; `pod` and `networkPolicy` are absent when they must not exist. */
export interface DesiredChildren {
  home: V1PersistentVolumeClaim;
  token: V1Secret;
  service: V1Service;
  networkPolicy?: NetworkPolicyJson;
  pod?: V1Pod;
}

function owner(lab: NotebookLab): OwnerLike {
  return {
    apiVersion: lab.apiVersion,
    kind: lab.kind,
    metadata: {
      name: lab.metadata.name ?? '',
      namespace: lab.metadata.namespace ?? 'default',
      uid: lab.metadata.uid ?? '',
    },
  };
}

/**
 * The profile and what the lab resolves to under it, or why the lab cannot run (a stable reason for Degraded):
 * no profile, a profile that breaks its schema ({@link profileProblem}), or a spec the profile does not offer.
 */
export function resolveWith(
  lab: NotebookLab,
  profile: NotebookProfile | undefined,
): { profile: NotebookProfile; resolved: ResolvedLab } | { invalid: { reason: string; message: string } } {
  if (profile === undefined) {
    return {
      invalid: {
        reason: 'ProfileNotFound',
        message: `spec.profile: NotebookProfile ${lab.spec.profile} not found; ask an admin which profiles exist`,
      },
    };
  }
  const bad = profileProblem(profile);
  if (bad !== undefined) return { invalid: bad };
  try {
    return { profile, resolved: resolveLab(lab, profile) };
  } catch (err) {
    if (!(err instanceof TerminalError)) throw err;
    return { invalid: { reason: err.code, message: err.message } };
  }
}

/** Labels that select the lab's Pod (for the Service and the NetworkPolicy): owner UID + component. */
export function podSelector(lab: NotebookLab): Record<string, string> {
  return { [LABELS.ownerUid]: lab.metadata.uid ?? '', [LABELS.component]: COMPONENT.lab };
}

/** The extra `skyport.io/owner` label on every child: lets admins find a user's objects. */
export const OWNER_LABEL = 'skyport.io/owner';

/**
 * Annotation naming the lab's profile, on the Pod and the home claim: a retained home goes back only to a lab of
 * the same owner and profile (ownership.ts).
 */
export const PROFILE_ANNOTATION = 'skyport.io/profile';

/** Builds the home PVC. No ownerReference: its lifetime follows the profile's retain policy via a finalizer. */
export function buildHome(lab: NotebookLab, profile: NotebookProfile): V1PersistentVolumeClaim {
  const names = labNames(lab.metadata.name ?? '');
  const home = profile.spec.home;
  const pvc: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    // Not owned: an ownerReference would make the garbage collector delete the home even under Retain.
    metadata: childMeta(owner(lab), COMPONENT.home, {
      name: names.home,
      owned: false,
      extraLabels: { [OWNER_LABEL]: lab.spec.owner },
      annotations: { [PROFILE_ANNOTATION]: lab.spec.profile },
    }),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: String(home.size) } },
    },
  };
  if (home.storageClassName !== undefined && pvc.spec !== undefined)
    pvc.spec.storageClassName = home.storageClassName;
  return pvc;
}

/** Builds the per-lab token Secret. */
export function buildTokenSecret(lab: NotebookLab, ctx: BuildContext): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(owner(lab), COMPONENT.token, {
      name: labNames(lab.metadata.name ?? '').token,
      extraLabels: { [OWNER_LABEL]: lab.spec.owner },
    }),
    type: 'Opaque',
    data: { [TOKEN_KEY]: Buffer.from(ctx.token, 'utf8').toString('base64') },
  };
}

/** Builds the ClusterIP Service in front of the lab Pod; it stays while the lab is stopped. */
export function buildService(lab: NotebookLab): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(owner(lab), COMPONENT.lab, {
      name: labNames(lab.metadata.name ?? '').service,
      extraLabels: { [OWNER_LABEL]: lab.spec.owner },
    }),
    spec: {
      type: 'ClusterIP',
      selector: podSelector(lab),
      ports: [{ name: 'http', port: LAB_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * Builds the NetworkPolicy: ingress to the lab port only from the profile's proxy/portal namespaces (none when
 * the list is empty); `undefined` when the profile disables network policy.
 */
export function buildNetworkPolicy(
  lab: NotebookLab,
  profile: NotebookProfile,
): NetworkPolicyJson | undefined {
  const net = profile.spec.network;
  if (!net.enabled) return undefined;
  const namespaces = [...net.ingressNamespaces].sort();
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(owner(lab), COMPONENT.lab, {
      name: labNames(lab.metadata.name ?? '').networkPolicy,
      extraLabels: { [OWNER_LABEL]: lab.spec.owner },
    }),
    spec: {
      podSelector: { matchLabels: podSelector(lab) },
      policyTypes: ['Ingress'],
      ingress:
        namespaces.length === 0
          ? []
          : [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces },
                      ],
                    },
                  },
                ],
                ports: [{ protocol: 'TCP', port: LAB_PORT }],
              },
            ],
    },
  };
}

function userEnv(lab: NotebookLab): V1EnvVar[] {
  return (lab.spec.env ?? []).map((e) => {
    if (e.valueFrom !== undefined) {
      const ref = e.valueFrom.secretKeyRef;
      return {
        name: e.name,
        valueFrom: { secretKeyRef: { name: ref.name, key: ref.key, optional: ref.optional } },
      };
    }
    return { name: e.name, value: e.value ?? '' };
  });
}

function extraVolumes(lab: NotebookLab): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  for (const v of lab.spec.volumes ?? []) {
    // Prefixed so user volume names can never collide with the builder's own (home, tmp).
    const name = `x-${v.name}`;
    if (v.persistentVolumeClaim !== undefined) {
      volumes.push({
        name,
        persistentVolumeClaim: { claimName: v.persistentVolumeClaim.claimName, readOnly: v.readOnly },
      });
    } else if (v.configMap !== undefined) {
      volumes.push({ name, configMap: { name: v.configMap.name } });
    } else if (v.secret !== undefined) {
      volumes.push({ name, secret: { secretName: v.secret.secretName, defaultMode: 0o400 } });
    }
    mounts.push({ name, mountPath: v.mountPath, readOnly: v.readOnly });
  }
  return { volumes, mounts };
}

/**
 * Builds the lab Pod: Pod Security "restricted" (non-root, no privilege escalation, ALL capabilities dropped,
 * seccomp RuntimeDefault), requests and limits from the named size, `jupyter lab` with the lab's base URL and
 * the token from the Secret (JUPYTER_TOKEN, so it never appears in the Pod spec), home and /tmp mounted.
 */
export function buildPod(
  lab: NotebookLab,
  profile: NotebookProfile,
  resolved: ResolvedLab,
  extraAnnotations: Readonly<Record<string, string>> = {},
): V1Pod {
  const names = labNames(lab.metadata.name ?? '');
  const sec = profile.spec.security;
  const mountPath = profile.spec.home.mountPath;
  const extra = extraVolumes(lab);
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: childMeta(owner(lab), COMPONENT.lab, {
      name: names.pod,
      extraLabels: { [OWNER_LABEL]: lab.spec.owner },
      annotations: {
        ...extraAnnotations,
        [PROFILE_ANNOTATION]: lab.spec.profile,
        'skyport.io/size': resolved.size.name,
      },
    }),
    spec: {
      // OnFailure: a user's clean "Shut Down" from the Jupyter menu ends the Pod; crashes restart (and are seen).
      restartPolicy: 'OnFailure',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostname: names.pod,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: sec.runAsUser,
        runAsGroup: sec.runAsGroup,
        fsGroup: sec.fsGroup,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'lab',
          image: resolved.image,
          imagePullPolicy: profile.spec.images.pullPolicy,
          command: ['jupyter', 'lab'],
          args: [
            '--no-browser',
            '--ServerApp.ip=0.0.0.0',
            `--ServerApp.port=${LAB_PORT}`,
            `--ServerApp.base_url=${resolved.basePath}`,
            `--ServerApp.root_dir=${mountPath}`,
          ],
          workingDir: mountPath,
          ports: [{ name: 'http', containerPort: LAB_PORT, protocol: 'TCP' }],
          env: [
            { name: 'JUPYTER_TOKEN', valueFrom: { secretKeyRef: { name: names.token, key: TOKEN_KEY } } },
            { name: 'HOME', value: mountPath },
            { name: 'SKYPORT_OWNER', value: lab.spec.owner },
            { name: 'SKYPORT_LAB', value: lab.metadata.name ?? '' },
            { name: 'SKYPORT_BASE_URL', value: resolved.basePath },
            ...userEnv(lab),
          ],
          resources: {
            requests: {
              cpu: String(resolved.size.requests.cpu),
              memory: String(resolved.size.requests.memory),
            },
            limits: { cpu: String(resolved.size.limits.cpu), memory: String(resolved.size.limits.memory) },
          },
          // `<base_url>api` answers without a token (0.4 ms of the server's CPU). Asked every second, so the Pod —
          // and the lab — is Ready within a second of the server answering (at 5 s it came up to 4.6 s after it in
          // bench:spawn; a 1 s startup probe before a 5 s readiness probe still took ~1 s: the kubelet runs the
          // readiness check only at its next pod sync after the startup check passes). 15 failures in a row (as
          // 3 × 5 s did) take a stalled server out of its Service.
          readinessProbe: {
            httpGet: { path: `${resolved.basePath}api`, port: 'http' },
            periodSeconds: 1,
            failureThreshold: 15,
          },
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: sec.readOnlyRootFilesystem,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumeMounts: [
            { name: 'home', mountPath },
            { name: 'tmp', mountPath: SCRATCH_PATH },
            ...extra.mounts,
          ],
        },
      ],
      volumes: [
        { name: 'home', persistentVolumeClaim: { claimName: names.home } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } },
        ...extra.volumes,
      ],
    },
  };
  const pullSecrets = profile.spec.images.pullSecrets ?? [];
  if (pullSecrets.length > 0 && pod.spec !== undefined)
    pod.spec.imagePullSecrets = pullSecrets.map((name) => ({ name }));
  return pod;
}

/**
 * All desired children of a lab. The Pod is present only when `spec.state` is Running and the lab is admitted
 * (quota) and not being deleted.
 */
export function buildChildren(
  lab: NotebookLab,
  profile: NotebookProfile,
  ctx: BuildContext,
  opts: { admitted: boolean },
): DesiredChildren {
  const resolved = resolveLab(lab, profile);
  const out: DesiredChildren = {
    home: buildHome(lab, profile),
    token: buildTokenSecret(lab, ctx),
    service: buildService(lab),
  };
  const np = buildNetworkPolicy(lab, profile);
  if (np !== undefined) out.networkPolicy = np;
  const wantPod =
    lab.spec.state === 'Running' && opts.admitted && lab.metadata.deletionTimestamp === undefined;
  if (wantPod) out.pod = buildPod(lab, profile, resolved, ctx.podAnnotations);
  return out;
}
