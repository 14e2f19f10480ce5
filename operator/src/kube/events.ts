// Kubernetes Events (core/v1) for notable transitions, with client-go style dedup: repeats bump `count`.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { MANAGER } from '../meta/labels.js';
import type { Kube, KubeObject } from './client.js';

/** The two calls the recorder makes; `Kube` implements them. */
export type EventSink = Pick<Kube, 'create' | 'mergePatch'>;
import { errorMessage } from '../errors.js';

/** `Normal` for progress, `Warning` for anything a user should look at. */
export type EventType = 'Normal' | 'Warning';

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** `source.component` / `reportingComponent` (default `skyport-operator`). */
  component?: string;
  /** `reportingInstance` (the replica identity). */
  instance?: string;
  /** Repeats within this window bump the count of the existing Event (default 10 min). */
  dedupWindowMs?: number;
  /** Max remembered distinct events (default 4096, oldest forgotten first). */
  maxEntries?: number;
  /**
   * Per-object spam filter (client-go's EventSourceObjectSpamFilter): at most `burst` events per object,
   * refilled at one per `refillMs` (defaults 25 and 5 min). Excess events are dropped with a debug log.
   */
  spamBurst?: number;
  spamRefillMs?: number;
  log?: Logger;
  /** Clock, for tests. */
  now?: () => Date;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

/**
 * Records core/v1 Events on objects. The same (object, type, reason, message) within the dedup window
 * patches the existing Event's `count` and `lastTimestamp` instead of creating a new one, as client-go's
 * EventCorrelator does. Recording never throws: a failure is logged, reconcile carries on.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly component: string;
  private readonly instance: string;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => Date;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly kube: EventSink,
    private readonly opts: EventRecorderOptions = {},
  ) {
    this.component = opts.component ?? MANAGER;
    this.instance = opts.instance ?? MANAGER;
    this.windowMs = opts.dedupWindowMs ?? 600_000;
    this.maxEntries = opts.maxEntries ?? 4096;
    this.now = opts.now ?? (() => new Date());
  }

  /** Records a `Normal` event. */
  normal(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Normal', reason, message);
  }

  /** Records a `Warning` event. */
  warning(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Warning', reason, message);
  }

  /** Records an event on `obj`; `reason` is CamelCase, `message` a human sentence. Resolves even on failure. */
  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const key = `${meta.uid ?? ''}|${obj.kind ?? ''}|${namespace}|${meta.name ?? ''}|${type}|${reason}|${message}`;
    const now = this.now();
    const nowIso = now.toISOString();
    const prev = this.seen.get(key);
    if (!this.allow(`${meta.uid ?? ''}|${namespace}|${meta.name ?? ''}`, now.getTime())) {
      this.opts.log?.debug(
        { reason, object: `${namespace}/${meta.name ?? ''}` },
        'Dropped event by the spam filter',
      );
      return;
    }
    try {
      if (prev !== undefined && now.getTime() - prev.lastSeenMs < this.windowMs) {
        prev.count += 1;
        prev.lastSeenMs = now.getTime();
        const patched = await this.kube.mergePatch(
          { apiVersion: 'v1', kind: 'Event', namespace: prev.namespace, name: prev.name },
          { count: prev.count, lastTimestamp: nowIso.replace(/\.\d{3}Z$/, 'Z') },
        );
        if (patched !== undefined) return;
        // The Event expired (events have a TTL): fall through and create a fresh one.
      }
      const name = `${meta.name ?? 'unknown'}.${createHash('sha256').update(`${key}|${nowIso}`).digest('hex').slice(0, 16)}`;
      const ts = nowIso.replace(/\.\d{3}Z$/, 'Z');
      await this.kube.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        count: 1,
        firstTimestamp: ts,
        lastTimestamp: ts,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
      });
      this.remember(key, { name, namespace, count: 1, firstTimestamp: ts, lastSeenMs: now.getTime() });
    } catch (err) {
      this.opts.log?.warn(
        { err: errorMessage(err), reason, object: `${namespace}/${meta.name ?? ''}` },
        'Failed to record event',
      );
    }
  }

  private allow(objectKey: string, nowMs: number): boolean {
    const burst = this.opts.spamBurst ?? 25;
    const refill = this.opts.spamRefillMs ?? 300_000;
    const b = this.buckets.get(objectKey) ?? { tokens: burst, at: nowMs };
    b.tokens = Math.min(burst, b.tokens + (nowMs - b.at) / refill);
    b.at = nowMs;
    this.buckets.delete(objectKey);
    this.buckets.set(objectKey, b);
    while (this.buckets.size > this.maxEntries) {
      const oldest = this.buckets.keys().next();
      if (oldest.done === true) break;
      this.buckets.delete(oldest.value);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    // Map iteration order is insertion order, so the first key is the least recently created.
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done === true) break;
      this.seen.delete(oldest.value);
    }
  }
}
