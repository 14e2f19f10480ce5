// Helpers of the TAP e2e tests: the TAP's ServiceAccount with only the QueryJob Role a Catalog's TAP Deployment gets
// (docs/adr/0009-catalog-tap-service.md), its apiserver access, and a TAP process in-process on the Kubernetes store.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TAP_ROLE_RULES } from '../../operator/src/controllers/catalog/build.js';
import { loadConfig } from '../../services/tap/src/config.js';
import type { KubeAccess } from '../../packages/service-kit/src/kube-access.js';
import { startTap, type RunningTap } from '../../services/tap/src/server.js';
import { kubectl, serviceAccountToken } from '../cluster/index.js';

export const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef0' } as const;
export type TapUser = keyof typeof TOKENS;
export const auth = (u: TapUser): Record<string, string> => ({ authorization: `Bearer ${TOKENS[u]}` });

/** Creates ServiceAccount `tap`, the TAP Role (the one the Catalog controller grants) and its binding in `ns`; resolves with the SA's apiserver access. */
export async function tapAccess(ns: string): Promise<KubeAccess> {
  await kubectl(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tap' } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'tap' },
          rules: TAP_ROLE_RULES,
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'tap' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tap' },
          subjects: [{ kind: 'ServiceAccount', name: 'tap', namespace: ns }],
        },
      ],
    }),
  });
  const token = await serviceAccountToken(ns, 'tap');
  const kc = readFileSync(process.env['SKYPORT_KUBECONFIG'] ?? '', 'utf8');
  const server = /server:\s*(\S+)/.exec(kc)?.[1];
  const caData = /certificate-authority-data:\s*(\S+)/.exec(kc)?.[1];
  if (server === undefined || caData === undefined) throw new Error('no server or CA in the kubeconfig');
  return { server, token: () => token, ca: Buffer.from(caData, 'base64').toString('utf8') };
}

export interface TapHandle {
  readonly tap: RunningTap;
  /** http://127.0.0.1:<port>/tap */
  readonly base: string;
  /** A temporary directory: `tokens`, `key`, and `results/` (TAP_RESULTS_DIR). */
  readonly dir: string;
  close(): Promise<void>;
}

/** A TAP process on the Kubernetes store: QueryJobs in `ns` against Catalog `catalog`, users alice and bob. */
export async function startKubeTap(
  ns: string,
  catalog: string,
  access: KubeAccess,
  opts: { now?: () => number; env?: Record<string, string> } = {},
): Promise<TapHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'skyport-tap-e2e-'));
  writeFileSync(join(dir, 'tokens'), `alice ${TOKENS.alice}\nbob ${TOKENS.bob}\n`);
  writeFileSync(join(dir, 'key'), 'k'.repeat(48));
  const cfg = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    TAP_TOKENS_FILE: join(dir, 'tokens'),
    TAP_SIGNING_KEY_FILE: join(dir, 'key'),
    TAP_RESULTS_DIR: join(dir, 'results'),
    TAP_CATALOG_NAME: catalog,
    TAP_JOB_STORE: 'kubernetes',
    TAP_NAMESPACE: ns,
    ...opts.env,
  });
  const tap = await startTap(cfg, {
    ...(opts.now !== undefined && { now: opts.now }),
    sweepIntervalMs: 0,
    log: () => undefined,
    kube: access,
  });
  return {
    tap,
    base: `http://127.0.0.1:${tap.port}/tap`,
    dir,
    async close() {
      await tap.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
