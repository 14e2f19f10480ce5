// Status writes for controllers: a read-your-writes cache (the watch may not have shown our last write), coalescing
// of changes that may wait, and the default record of a TerminalError (Degraded with its code).
import type { TerminalError } from '../errors.js';
import type { Kube, KubeObject } from '../kube/client.js';
import { CONDITION, setCondition, type Condition } from '../meta/index.js';

/** Options of {@link StatusWriter}. */
export interface StatusWriterOptions<S> {
  kube: Pick<Kube, 'applyStatus'>;
  /** True when `next` says nothing new over `prev` (then nothing is written). */
  same: (prev: S | undefined, next: S) => boolean;
  /**
   * Changes for which `deferrable(prev, next)` holds wait up to `delayMs` and merge with later ones (one write
   * instead of several while an object moves along); any other change is written at once, with what was held.
   */
  coalesce?: { delayMs: number; deferrable: (prev: S, next: S) => boolean };
  /** Clock in ms (tests). */
  clock?: () => number;
}

/** What {@link StatusWriter.write} did: wrote, or held the status back for `retryInMs` (come back then). */
export type StatusWrite = { wrote: boolean; retryInMs?: number };

type WithStatus<S> = KubeObject & { metadata?: { uid?: string }; status?: S };

/** Writes one controller's statuses through `/status`, per object UID. */
export class StatusWriter<S> {
  /**
   * The last status this process wrote per UID. The informer may not have seen that write yet when the next
   * reconcile runs; computing from the stale copy would drop fields carried over from the previous status and
   * write twice.
   */
  private readonly written = new Map<string, S>();
  /** Per UID: a computed status held back by coalescing, and since when (ms). */
  private readonly unwritten = new Map<string, { since: number; status: S }>();
  private readonly clock: () => number;

  constructor(private readonly opts: StatusWriterOptions<S>) {
    this.clock = opts.clock ?? Date.now;
  }

  /** `obj` with its freshest known status: ours if the cache has not caught up with our last write. */
  fresh<T extends WithStatus<S>>(obj: T): T {
    const mine = this.written.get(obj.metadata?.uid ?? '');
    return mine === undefined ? obj : { ...obj, status: mine };
  }

  /** The status held back for `uid` (build the next one on it, so first-seen times are kept). */
  held(uid: string): S | undefined {
    return this.unwritten.get(uid)?.status;
  }

  /** Writes `next` as `obj`'s status unless it is the same as `obj.status`, or may wait (coalescing). */
  async write(obj: WithStatus<S>, next: S): Promise<StatusWrite> {
    const uid = obj.metadata?.uid ?? '';
    const prev = obj.status;
    if (this.opts.same(prev, next)) {
      this.unwritten.delete(uid);
      return { wrote: false };
    }
    const c = this.opts.coalesce;
    if (c !== undefined && prev !== undefined && c.deferrable(prev, next)) {
      const since = this.unwritten.get(uid)?.since ?? this.clock();
      this.unwritten.set(uid, { since, status: next });
      const waited = this.clock() - since;
      if (waited < c.delayMs) return { wrote: false, retryInMs: c.delayMs - waited };
    }
    await this.opts.kube.applyStatus(obj, next);
    this.written.set(uid, next);
    this.unwritten.delete(uid);
    return { wrote: true };
  }

  /** Forgets an object (it is gone). */
  forget(uid: string): void {
    this.written.delete(uid);
    this.unwritten.delete(uid);
  }
}

/** The status fields {@link degradedStatus} touches; every other field of the status is kept. */
export interface ConditionedStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/** `status` with `Degraded=True` and `Ready=False`, both with the error's code as reason and its message. */
export function degradedStatus(
  status: ConditionedStatus | undefined,
  err: TerminalError,
  generation: number | undefined,
  now: Date,
): ConditionedStatus {
  const gen = generation === undefined ? {} : { observedGeneration: generation };
  const cond = { reason: err.code, message: err.message, ...gen };
  let conditions = setCondition(
    status?.conditions,
    { type: CONDITION.Degraded, status: 'True', ...cond },
    now,
  );
  conditions = setCondition(conditions, { type: CONDITION.Ready, status: 'False', ...cond }, now);
  return { ...(status ?? {}), ...gen, conditions };
}

/**
 * What the runtime does with a TerminalError when the controller has no `onTerminal`: records it on the primary as
 * `Degraded=True`/`Ready=False` with `reason = err.code` (for kinds with `status.conditions`).
 */
export async function recordDegraded(
  kube: Pick<Kube, 'applyStatus'>,
  obj: KubeObject,
  err: TerminalError,
  now: Date = new Date(),
): Promise<void> {
  const status = obj['status'] as ConditionedStatus | undefined;
  await kube.applyStatus(obj, degradedStatus(status, err, obj.metadata?.generation, now));
}
