// Children this process wrote that the watch has not shown yet (client-go's "expectations"), the spec hash that
// tells an unchanged child from a changed one, and apply-if-changed: no reconcile re-sends what it just wrote.
import type { Kube, KubeObject } from '../kube/client.js';
import { shortHash } from '../meta/index.js';

/** Annotation holding a hash of the desired child, so unchanged children are not re-applied. */
export const SPEC_HASH = 'skyport.io/spec-hash';

/** How long a write of ours may take to show up in the cache before we write again. */
export const EXPECTATION_TTL_MS = 30_000;

/** `obj` with its {@link SPEC_HASH} annotation set from its own content. */
export function withHash<T extends KubeObject>(obj: T): T {
  const hash = shortHash(JSON.stringify(obj));
  const metadata = {
    ...(obj.metadata ?? {}),
    annotations: { ...(obj.metadata?.annotations ?? {}), [SPEC_HASH]: hash },
  };
  return { ...obj, metadata };
}

/** The {@link SPEC_HASH} annotation of an object, if it carries one. */
export function specHashOf(obj: KubeObject | undefined): string | undefined {
  return obj?.metadata?.annotations?.[SPEC_HASH];
}

/**
 * True when `current` was built from something other than `desired` (hashed, {@link withHash}): both carry a
 * {@link SPEC_HASH} and they differ. An object without the annotation has nothing to compare.
 */
export function builtFromOther(desired: KubeObject, current: KubeObject): boolean {
  const have = specHashOf(current);
  return have !== undefined && have !== specHashOf(desired);
}

function upToDate(desired: KubeObject, current: KubeObject | undefined): boolean {
  return current !== undefined && specHashOf(current) === specHashOf(desired);
}

/** Options of {@link Expectations}. */
export interface ExpectationsOptions {
  /** Clock in ms (tests). */
  clock?: () => number;
  /** Kinds created once and never written over (immutable, e.g. `Pod`): an existing one never needs a write. */
  createOnly?: readonly string[];
}

/** Per owner UID and child kind: which version of a child this process last wrote, and when. */
export class Expectations {
  private readonly expected = new Map<string, { hash: string; at: number }>();
  private readonly clock: () => number;
  private readonly createOnly: ReadonlySet<string>;

  constructor(opts: ExpectationsOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.createOnly = new Set(opts.createOnly ?? []);
  }

  /**
   * True when `desired` (with its hash, {@link withHash}) must be written: the cache lacks it or holds another
   * version — unless this process wrote exactly this version moments ago and the watch has not delivered it yet.
   * Without this, every event between our write and its watch event (PVC bound, Pod scheduled, …) would re-send
   * the same object. `run.awaitingCache` is set when a write is skipped for that reason (come back later: the
   * object may have been deleted before we saw it). An existing object of a `createOnly` kind never needs a write.
   */
  needsWrite(
    uid: string,
    kind: string,
    desired: KubeObject,
    current: KubeObject | undefined,
    run: { awaitingCache: boolean },
  ): boolean {
    const key = `${uid}/${kind}`;
    if (current !== undefined && (this.createOnly.has(kind) || upToDate(desired, current))) {
      this.expected.delete(key);
      return false;
    }
    const e = this.expected.get(key);
    const hash = specHashOf(desired) ?? '';
    if (
      current === undefined &&
      e !== undefined &&
      e.hash === hash &&
      this.clock() - e.at < EXPECTATION_TTL_MS
    ) {
      run.awaitingCache = true;
      return false;
    }
    return true;
  }

  /** Records that `desired` was just written. */
  wrote(uid: string, kind: string, desired: KubeObject): void {
    this.expected.set(`${uid}/${kind}`, {
      hash: specHashOf(desired) ?? '',
      at: this.clock(),
    });
  }

  /** True while a write of this owner's child of `kind` by this process may not have reached the cache yet. */
  pending(uid: string, kind: string): boolean {
    const e = this.expected.get(`${uid}/${kind}`);
    return e !== undefined && this.clock() - e.at < EXPECTATION_TTL_MS;
  }

  /** Forgets an owner's children (the owner is gone). */
  forget(uid: string): void {
    for (const k of [...this.expected.keys()]) if (k.startsWith(`${uid}/`)) this.expected.delete(k);
  }
}

/**
 * Server-side applies `desired` (hashed, {@link withHash}) unless the cached `current` already has this version or
 * this process wrote it moments ago ({@link Expectations.needsWrite}); true when it wrote.
 */
export async function applyIfChanged(
  kube: Pick<Kube, 'apply'>,
  expected: Expectations,
  ownerUid: string,
  desired: KubeObject,
  current: KubeObject | undefined,
  run: { awaitingCache: boolean },
): Promise<boolean> {
  const kind = desired.kind ?? '';
  if (!expected.needsWrite(ownerUid, kind, desired, current, run)) return false;
  await kube.apply(desired);
  expected.wrote(ownerUid, kind, desired);
  return true;
}
