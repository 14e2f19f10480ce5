// Children this process wrote that the watch has not shown yet (client-go's "expectations"), and the spec hash
// that tells an unchanged child from a changed one, so that no reconcile re-sends what it just wrote.
import type { KubeObject } from '../../kube/index.js';
import { shortHash } from '../../meta/index.js';

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

/** Per lab UID and kind: which version of a child this process last wrote, and when. */
export class Expectations {
  private readonly expected = new Map<string, { hash: string; at: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * True when `desired` (with its hash, {@link withHash}) must be written: the cache lacks it or holds another
   * version — unless this process wrote exactly this version moments ago and the watch has not delivered it yet.
   * Without this, every event between our write and its watch event (PVC bound, Pod scheduled, …) would re-send
   * the same object. `run.awaitingCache` is set when a write is skipped for that reason (come back later: the
   * object may have been deleted before we saw it). An existing Pod never needs a write (its spec is immutable).
   */
  needsWrite(
    uid: string,
    kind: string,
    desired: KubeObject,
    current: KubeObject | undefined,
    run: { awaitingCache: boolean },
  ): boolean {
    const key = `${uid}/${kind}`;
    if (current !== undefined && (kind === 'Pod' || upToDate(desired, current))) {
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

  /** True while a write of this lab's child of `kind` by this process may not have reached the cache yet. */
  pending(uid: string, kind: string): boolean {
    const e = this.expected.get(`${uid}/${kind}`);
    return e !== undefined && this.clock() - e.at < EXPECTATION_TTL_MS;
  }

  /** Forgets a lab's children (the lab is gone). */
  forget(uid: string): void {
    for (const k of [...this.expected.keys()]) if (k.startsWith(`${uid}/`)) this.expected.delete(k);
  }
}
