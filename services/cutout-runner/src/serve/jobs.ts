// How the results server learns a CutoutJob's owner, collection, uid and status: a GET of the CutoutJob through the
// apiserver (the ServiceAccount's Role grants get/list on cutoutjobs of its namespace). A tiny client over
// node:http(s), as services/tap/src/kube.ts (services never import the operator; CONTRIBUTING.md "Where things go"):
// one request with a deadline, the token re-read every time (@skyport/service-kit/kube-access: a projected token is
// rotated in place).

import http from 'node:http';
import https from 'node:https';
import type { KubeAccess } from '@skyport/service-kit/kube-access';

/** What the server needs of a CutoutJob. */
export interface JobView {
  readonly name: string;
  readonly uid: string;
  readonly owner: string;
  readonly imageCollection: string;
  readonly phase: string | undefined;
  /** status.results: id, path (from the results volume's root), size, sha256. */
  readonly results: readonly { id: string; path: string; size?: number; sha256?: string }[];
}

/** Looks a CutoutJob of the server's namespace up by name; undefined when there is none. */
export interface JobLookup {
  get(name: string): Promise<JobView | undefined>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** A CutoutJob object (plain JSON) as the view the server uses. */
export function jobView(o: unknown): JobView {
  const j = (o ?? {}) as {
    metadata?: { name?: string; uid?: string };
    spec?: { owner?: string; imageCollection?: string };
    status?: { phase?: string; results?: JobView['results'] };
  };
  return {
    name: j.metadata?.name ?? '',
    uid: j.metadata?.uid ?? '',
    owner: j.spec?.owner ?? '',
    imageCollection: j.spec?.imageCollection ?? '',
    phase: j.status?.phase,
    results: Array.isArray(j.status?.results) ? j.status.results : [],
  };
}

/** {@link JobLookup} through the apiserver: GET /apis/skyport.io/v1alpha1/namespaces/<ns>/cutoutjobs/<name>. */
export class KubeJobLookup implements JobLookup {
  private readonly agent: http.Agent;

  constructor(
    private readonly access: KubeAccess,
    private readonly namespace: string,
  ) {
    this.agent = access.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ...(access.ca !== undefined && { ca: access.ca }) })
      : new http.Agent({ keepAlive: true });
  }

  get(name: string): Promise<JobView | undefined> {
    const path = `/apis/skyport.io/v1alpha1/namespaces/${encodeURIComponent(this.namespace)}/cutoutjobs/${encodeURIComponent(name)}`;
    const mod = this.access.server.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(new URL(path, this.access.server), {
        method: 'GET',
        agent: this.agent,
        headers: { Accept: 'application/json', Authorization: `Bearer ${this.access.token()}` },
      });
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer to GET ${path} within ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 404) return resolve(undefined);
          if (res.statusCode !== 200)
            return reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          try {
            resolve(jobView(JSON.parse(text)));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
