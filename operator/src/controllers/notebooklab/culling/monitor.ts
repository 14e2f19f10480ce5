// Runs the labs' activity checks off the work queue: a reconcile reads the last result and never waits for a
// Jupyter server (or for a DNS lookup of its Service name), so one slow lab cannot stall the others.
import type { Activity, ActivityResolver, ActivityTarget } from './activity.js';
import type { ActivityFreshness } from './policy.js';
import { errorMessage } from '../../../errors.js';

/** The result of one check: the server's answer, or why there is none (timeout, DNS failure, error). */
type CheckResult = { activity: Activity } | { failure: string };

/** What a reconcile learns about a lab's activity, at once (see {@link ActivityFreshness}). */
export interface ActivityReading {
  freshness: ActivityFreshness;
  /** The last answer, fresh or stale; absent when unknown. */
  activity?: Activity;
  /** Why the reading is unknown. */
  failure?: string;
}

/** Options of {@link ActivityMonitor}. */
export interface ActivityMonitorOptions {
  resolver: ActivityResolver;
  /** How long a result answers reconciles before the lab is asked again (ms). */
  ttlMs: number;
  /**
   * Checks in flight at once. Small on purpose: each holds a socket and, while the lab's Service name resolves,
   * one of libuv's four threadpool threads (getaddrinfo cannot be cancelled).
   */
  concurrency?: number;
  /** A check that has not answered by then is unknown (ms; covers DNS resolution, connect and the answer). */
  timeoutMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A lab's key as the work queue knows it. */
export interface LabKey {
  namespace: string;
  name: string;
}

interface Entry {
  result: CheckResult;
  /** When the check ended (ms). */
  at: number;
}

/** Default per-check deadline: far below a reconcile's budget, above a healthy in-cluster round trip. */
export const ACTIVITY_TIMEOUT_MS = 2_000;
/** Default checks in flight. */
export const ACTIVITY_CONCURRENCY = 4;

const keyOf = (k: LabKey): string => `${k.namespace}/${k.name}`;

/**
 * Per-lab activity cache fed by background checks. {@link read} returns the cached reading at once and, when it
 * is missing or older than the TTL, queues a check (one per lab at a time, at most `concurrency` running). Each
 * finished check is announced to the subscribers with the lab's key, so the lab is reconciled with the result.
 */
export class ActivityMonitor {
  private readonly entries = new Map<string, Entry>();
  /** Labs waiting for a check slot, in order, with what to ask. */
  private readonly pending = new Map<string, ActivityTarget>();
  private readonly running = new Set<string>();
  /** Labs forgotten while their check was running. */
  private readonly forgotten = new Set<string>();
  private readonly listeners: ((key: LabKey) => void)[] = [];
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ActivityMonitorOptions) {
    this.now = opts.now ?? ((): number => Date.now());
    this.concurrency = Math.max(1, opts.concurrency ?? ACTIVITY_CONCURRENCY);
    this.timeoutMs = opts.timeoutMs ?? ACTIVITY_TIMEOUT_MS;
  }

  /** Calls `fn` with a lab's key each time a check of that lab ends. */
  subscribe(fn: (key: LabKey) => void): void {
    this.listeners.push(fn);
  }

  /**
   * The lab's reading now; queues a check when there is no result younger than the TTL. Never waits. A failed
   * check reads unknown until the next one answers; an answer past its TTL reads stale.
   */
  read(target: ActivityTarget): ActivityReading {
    const key = { namespace: target.namespace, name: target.name };
    const k = keyOf(key);
    // Asked for again: a check still running from before a forget() counts.
    this.forgotten.delete(k);
    const e = this.entries.get(k);
    const fresh = e !== undefined && this.now() - e.at < this.opts.ttlMs;
    if (!fresh && !this.running.has(k)) {
      // The latest target wins: a changed token is used by the check that has not started yet.
      this.pending.set(k, target);
      this.pump();
    }
    if (e === undefined) return { freshness: 'unknown', failure: 'not checked yet' };
    if ('failure' in e.result) return { freshness: 'unknown', failure: e.result.failure };
    return { freshness: fresh ? 'fresh' : 'stale', activity: e.result.activity };
  }

  /** Drops a lab's reading and any queued check (the lab stopped or was deleted). */
  forget(key: LabKey): void {
    const k = keyOf(key);
    this.entries.delete(k);
    this.pending.delete(k);
    if (this.running.has(k)) this.forgotten.add(k);
  }

  /** Labs with a check queued or running (tests). */
  get backlog(): number {
    return this.pending.size + this.running.size;
  }

  private pump(): void {
    while (this.running.size < this.concurrency) {
      const next = this.pending.entries().next();
      if (next.done === true) return;
      const [k, target] = next.value;
      this.pending.delete(k);
      this.running.add(k);
      void this.check(k, target);
    }
  }

  private async check(k: string, target: ActivityTarget): Promise<void> {
    const result = await this.ask(target);
    this.running.delete(k);
    // A lab forgotten while its check ran (stopped, deleted) keeps no result and needs no reconcile.
    const dropped = this.forgotten.delete(k);
    if (!dropped) this.entries.set(k, { result, at: this.now() });
    this.pump();
    if (!dropped) for (const fn of this.listeners) fn({ namespace: target.namespace, name: target.name });
  }

  /** One check with a hard deadline, whatever the resolver's own timeouts (a fake one may never answer). */
  private async ask(target: ActivityTarget): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ failure: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    const answer = this.opts.resolver.resolve(target).then(
      (a): CheckResult =>
        a === undefined ? { failure: 'the Jupyter server did not report its activity' } : { activity: a },
      (err: unknown): CheckResult => ({ failure: errorMessage(err) }),
    );
    try {
      return await Promise.race([answer, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
