// Live progress in the QueryJob's status: the runner merge-patches `status.progress {rows, bytes, updatedAt}` of
// its own QueryJob through the `/status` subresource, at most every `intervalMs` (5 s by default), never per row.
// The pod's ServiceAccount may do nothing else: the operator binds it to a Role allowing get and patch of
// `queryjobs/status` for this one QueryJob's name. Progress is best effort — a refused or failed patch is logged
// once on stderr and never fails the query; only one patch is in flight at a time, and a report arriving while
// one is, waits for the next turn (the newest numbers win).

import { request } from 'node:https';
import type { KubeAccess } from '@skyport/service-kit/kube-access';

/** Which QueryJob the run reports to (the runner spec's `progress`). */
export interface ProgressTarget {
  readonly namespace: string;
  readonly name: string;
  /** Seconds between patches: 5 by default. */
  readonly intervalSeconds?: number;
}

/** The figures a report carries. */
export interface Progress {
  readonly rows: number;
  readonly bytes: number;
}

/** The merge patch of one report. */
export function progressPatch(p: Progress, at: Date): { status: { progress: Record<string, unknown> } } {
  // RFC 3339 to the second, as Kubernetes writes times.
  const updatedAt = at.toISOString().replace(/\.\d+Z$/, 'Z');
  return { status: { progress: { rows: p.rows, bytes: p.bytes, updatedAt } } };
}

/** The runner's field manager in the QueryJob's managedFields. */
export const FIELD_MANAGER = 'skyport-query-runner';

/** Sends JSON merge patches to the QueryJob's /status; resolves with the HTTP status code. */
export type PatchFn = (body: unknown) => Promise<number>;

/** A PatchFn on `access` for `target` (node:https, the cluster's CA). */
export function statusPatcher(access: KubeAccess, target: ProgressTarget): PatchFn {
  const path =
    `/apis/skyport.io/v1alpha1/namespaces/${encodeURIComponent(target.namespace)}` +
    `/queryjobs/${encodeURIComponent(target.name)}/status?fieldManager=${FIELD_MANAGER}`;
  const url = new URL(path, access.server);
  return (body) =>
    new Promise((resolve, reject) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = request(
        url,
        {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${access.token()}`,
            'content-type': 'application/merge-patch+json',
            'content-length': data.length,
            accept: 'application/json',
          },
          ...(access.ca !== undefined && { ca: access.ca }),
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('timeout', () => req.destroy(new Error('progress patch timed out')));
      req.once('error', reject);
      req.end(data);
    });
}

export interface ReporterOptions {
  readonly intervalMs?: number;
  readonly now?: () => Date;
  /** Where a failure is told (once). */
  readonly warn?: (message: string) => void;
}

/** Throttles reports into status patches: the first at once, then at most one per interval. */
export class ProgressReporter {
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private last = -Infinity;
  private inFlight: Promise<void> | undefined;
  private warned = false;
  /** Patches sent and answered 2xx. */
  sent = 0;

  constructor(
    private readonly patch: PatchFn,
    private readonly opts: ReporterOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5000;
    this.now = opts.now ?? ((): Date => new Date());
  }

  /** Reports `p` if the interval has passed and no patch is in flight; returns at once. */
  report(p: Progress): void {
    const t = this.now();
    if (this.inFlight !== undefined || t.getTime() - this.last < this.intervalMs) return;
    this.last = t.getTime();
    this.inFlight = this.send(p, t).finally(() => (this.inFlight = undefined));
  }

  /** Reports `p` now (the final figures), after a patch in flight; never rejects. */
  async flush(p: Progress): Promise<void> {
    await this.inFlight;
    this.last = this.now().getTime();
    await this.send(p, this.now());
  }

  private async send(p: Progress, at: Date): Promise<void> {
    try {
      const code = await this.patch(progressPatch(p, at));
      if (code >= 200 && code < 300) this.sent++;
      else this.fail(`HTTP ${code}`);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private fail(why: string): void {
    if (this.warned) return;
    this.warned = true;
    (this.opts.warn ?? ((m: string) => process.stderr.write(m + '\n')))(
      `progress: patching the QueryJob's status failed (${why}); the query goes on without live progress`,
    );
  }
}
