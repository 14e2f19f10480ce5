// Reads a lab's last activity from the Jupyter server's `/api/status` (token auth) and decides warn/cull times.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { NotebookLab } from '../../../api/v1alpha1/index.js';
import { labNames } from '../build.js';

/** Where and how to ask one lab about its activity. */
export interface ActivityTarget {
  namespace: string;
  name: string;
  owner: string;
  /** Service name of the lab (`<svc>.<ns>.svc`). */
  service: string;
  /** Jupyter `base_url`, e.g. `/user/alice/lab/`. */
  basePath: string;
  /** The lab's Jupyter token (from its Secret). */
  token: string;
}

/** What the culler asks a lab with: its Service, Jupyter `base_url` and token. */
export function activityTarget(lab: NotebookLab, basePath: string, token: string): ActivityTarget {
  const name = lab.metadata.name ?? '';
  const namespace = lab.metadata.namespace ?? 'default';
  return { namespace, name, owner: lab.spec.owner, service: labNames(name).service, basePath, token };
}

/** Activity as reported by the Jupyter server. */
export interface Activity {
  lastActivity: Date;
  /** Kernels running; informational only (busy kernels already bump `last_activity`). */
  kernels?: number;
}

/** Resolves a lab's activity; `undefined` when the server cannot tell (not yet up, unreachable). */
export interface ActivityResolver {
  resolve(target: ActivityTarget): Promise<Activity | undefined>;
}

/** Thrown for a malformed `/api/status` answer so callers can log the exact problem. */
export class ActivityError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'ActivityError';
  }
}

/** The default in-cluster URL template; the e2e suite and run-local point it at a loopback server instead. */
export const DEFAULT_ACTIVITY_URL_TEMPLATE = 'http://{service}.{namespace}.svc:8888{basePath}api/status';

/**
 * Expands `{namespace}`, `{name}`, `{owner}`, `{service}` and `{basePath}` in a URL template. Values are
 * inserted URI-encoded except `basePath`, which is already a path.
 */
export function expandActivityUrl(template: string, t: ActivityTarget): string {
  return template.replace(/\{(namespace|name|owner|service|basePath)\}/g, (_m, key: string) => {
    switch (key) {
      case 'namespace':
        return encodeURIComponent(t.namespace);
      case 'name':
        return encodeURIComponent(t.name);
      case 'owner':
        return encodeURIComponent(t.owner);
      case 'service':
        return encodeURIComponent(t.service);
      default:
        return t.basePath;
    }
  });
}

/** Parses a Jupyter `/api/status` body: `{"last_activity": "<ISO>", "kernels": n, ...}`. */
export function parseJupyterStatus(body: string, url: string): Activity {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ActivityError(`Jupyter status at ${url} is not JSON`, url);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new ActivityError(`Jupyter status at ${url} is not an object`, url);
  }
  const rec = parsed as Record<string, unknown>;
  const la = rec['last_activity'];
  if (typeof la !== 'string')
    throw new ActivityError(`Jupyter status at ${url} has no last_activity string`, url);
  const when = new Date(la);
  if (Number.isNaN(when.getTime())) {
    throw new ActivityError(
      `Jupyter status at ${url} has an invalid last_activity ${JSON.stringify(la)}`,
      url,
    );
  }
  const kernels = rec['kernels'];
  return typeof kernels === 'number' ? { lastActivity: when, kernels } : { lastActivity: when };
}

/** Default deadline of one activity request. */
export const ACTIVITY_REQUEST_TIMEOUT_MS = 2_000;

/** Options for {@link JupyterActivityResolver}. */
export interface JupyterActivityResolverOptions {
  /** URL template, see {@link expandActivityUrl}. */
  urlTemplate?: string;
  /**
   * Deadline of one request from its start, DNS resolution and connect included (default 2 s; Kubeflow's culler
   * waits 10 s, but a socket timeout alone does not cover a slow lookup of `<svc>.<ns>.svc`).
   */
  timeoutMs?: number;
  /** Name resolution (default: the system's, `dns.lookup`); tests pass a slow one. */
  lookup?: LookupFunction;
}

/**
 * Asks Jupyter's REST API for `last_activity` with `Authorization: token <token>`. Network errors and non-200
 * answers resolve to `undefined` (the lab may be starting); a 200 with a bad body throws {@link ActivityError}.
 */
export class JupyterActivityResolver implements ActivityResolver {
  private readonly template: string;
  private readonly timeoutMs: number;
  private readonly lookup: LookupFunction | undefined;
  // Keep-alive: the culler polls every lab every check interval.
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(opts: JupyterActivityResolverOptions = {}) {
    this.template = opts.urlTemplate ?? DEFAULT_ACTIVITY_URL_TEMPLATE;
    this.timeoutMs = opts.timeoutMs ?? ACTIVITY_REQUEST_TIMEOUT_MS;
    this.lookup = opts.lookup;
  }

  async resolve(target: ActivityTarget): Promise<Activity | undefined> {
    const url = expandActivityUrl(this.template, target);
    const res = await this.get(url, target.token);
    if (res === undefined || res.status !== 200) return undefined;
    return parseJupyterStatus(res.body, url);
  }

  /** Closes pooled sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private get(url: string, token: string): Promise<{ status: number; body: string } | undefined> {
    return new Promise((resolve) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.get(
        u,
        {
          agent: u.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: { Authorization: `token ${token}`, Accept: 'application/json' },
          ...(this.lookup === undefined ? {} : { lookup: this.lookup }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(deadline);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', () => resolve(undefined));
          // Destroyed mid-body at the deadline; after 'end' this resolve is a no-op.
          res.on('close', () => resolve(undefined));
        },
      );
      // One deadline for the whole request: node's socket timeout starts only once the socket has connected,
      // after the name resolved.
      const deadline = setTimeout(() => req.destroy(new Error('timeout')), this.timeoutMs);
      req.on('error', () => {
        clearTimeout(deadline);
        resolve(undefined);
      });
    });
  }
}
