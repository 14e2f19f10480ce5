// Status conditions with Kubernetes semantics: lastTransitionTime changes only when status flips.

/** `metav1.Condition` as used in every skyport status. */
export interface Condition {
  /** CamelCase type: `Ready`, `Progressing`, `Degraded`, … */
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, machine-readable reason (a stable error code for `Degraded`). */
  reason: string;
  /** Human-readable message. */
  message: string;
  /** RFC 3339 time of the last change of `status`. */
  lastTransitionTime: string;
  /** The `metadata.generation` this condition was computed from. */
  observedGeneration?: number;
}

/** Standard condition types. */
export const CONDITION = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;

/** A condition to set; the transition time is filled in by {@link setCondition}. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** RFC 3339 with second precision, as the apiserver stores `metav1.Time`. */
export function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns a new conditions list with `cond` set (like apimachinery's `meta.SetStatusCondition`):
 * `lastTransitionTime` is `now` when the type is new or its `status` changed, else the old time is kept;
 * reason, message and observedGeneration are always updated. Order of existing entries is preserved.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  cond: ConditionInput,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    prev !== undefined && prev.status === cond.status
      ? prev.lastTransitionTime
      : (cond.lastTransitionTime ?? rfc3339(now));
  const next: Condition = {
    type: cond.type,
    status: cond.status,
    reason: cond.reason,
    message: cond.message,
    lastTransitionTime,
    ...(cond.observedGeneration === undefined ? {} : { observedGeneration: cond.observedGeneration }),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** The condition of `type`, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` has status `True`. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Returns the list without the condition of `type`. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * True when status reflects the current spec: `status.observedGeneration` equals `metadata.generation`
 * (kstatus semantics). A missing generation counts as current.
 */
export function isObservedCurrent(obj: {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number };
}): boolean {
  const gen = obj.metadata?.generation;
  return gen === undefined || obj.status?.observedGeneration === gen;
}
