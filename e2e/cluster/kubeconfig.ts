// Pure kubeconfig builder: one cluster, one user (client certificate or bearer token), one context.
import { stringify } from 'yaml';

/** Credentials of the kubeconfig's single user. */
export type KubeconfigUser =
  { name: string; clientCertificatePem: string; clientKeyPem: string } | { name: string; token: string };

/** Inputs of {@link buildKubeconfig}. */
export interface KubeconfigSpec {
  clusterName: string;
  server: string;
  caPem: string;
  user: KubeconfigUser;
  /** Default namespace of the context. */
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Builds a self-contained kubeconfig (certificates embedded) as YAML text. */
export function buildKubeconfig(spec: KubeconfigSpec): string {
  if (!/^https:\/\/[^/]+$/.test(spec.server)) {
    throw new Error(`kubeconfig server must be https://host:port, got "${spec.server}"`);
  }
  if (!spec.caPem.includes('BEGIN CERTIFICATE')) throw new Error('kubeconfig caPem is not a PEM certificate');
  const user =
    'token' in spec.user
      ? { token: spec.user.token }
      : {
          'client-certificate-data': b64(spec.user.clientCertificatePem),
          'client-key-data': b64(spec.user.clientKeyPem),
        };
  if ('token' in spec.user && spec.user.token.trim() === '') throw new Error('kubeconfig token is empty');
  const context = `${spec.user.name}@${spec.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: spec.clusterName,
        cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) },
      },
    ],
    users: [{ name: spec.user.name, user }],
    contexts: [
      {
        name: context,
        context: {
          cluster: spec.clusterName,
          user: spec.user.name,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
        },
      },
    ],
    'current-context': context,
    preferences: {},
  });
}
