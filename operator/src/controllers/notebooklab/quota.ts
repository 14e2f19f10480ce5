// Pure per-owner quota: which of an owner's labs are admitted under the profile's maxLabs / maxTotalHomeSize.

/** One lab of an owner, as the quota sees it. */
export interface QuotaEntry {
  uid: string;
  namespace: string;
  name: string;
  /** RFC 3339 creation time; older labs are admitted first, so admission is stable across reconciles. */
  createdAt: string;
  /** Home size this lab claims, in bytes. */
  homeBytes: number;
  /** Labs being deleted do not count: deleting one lets the next one in. */
  deleting: boolean;
}

/** The quota of a profile, in plain numbers. */
export interface QuotaLimits {
  maxLabs: number;
  /** Bytes; unlimited when undefined. */
  maxTotalHomeBytes?: number;
}

/** The verdict for one lab. */
export type QuotaVerdict =
  | { admitted: true; used: number; max: number }
  | { admitted: false; reason: 'QuotaExceeded'; message: string; used: number; max: number };

function order(a: QuotaEntry, b: QuotaEntry): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function fmtBytes(n: number): string {
  const gi = n / 2 ** 30;
  return Number.isInteger(gi) ? `${gi}Gi` : `${(n / 2 ** 20).toFixed(0)}Mi`;
}

/**
 * Decides whether `lab` is within its owner's quota. The owner's live labs are admitted oldest first while they
 * fit, so the verdict for each lab is the same whichever reconcile computes it, and deleting an admitted lab
 * admits the oldest refused one.
 */
export function checkQuota(
  lab: QuotaEntry,
  ownerLabs: readonly QuotaEntry[],
  limits: QuotaLimits,
  owner: string,
  profile: string,
): QuotaVerdict {
  const live = ownerLabs.filter((l) => !l.deleting);
  if (!live.some((l) => l.uid === lab.uid)) live.push(lab);
  live.sort(order);
  let count = 0;
  let bytes = 0;
  for (const l of live) {
    const fitsCount = count + 1 <= limits.maxLabs;
    const fitsBytes =
      limits.maxTotalHomeBytes === undefined || bytes + l.homeBytes <= limits.maxTotalHomeBytes;
    if (l.uid === lab.uid) {
      if (!fitsCount) {
        return {
          admitted: false,
          reason: 'QuotaExceeded',
          used: count,
          max: limits.maxLabs,
          message:
            `Owner ${owner} already has ${count} lab(s) with profile ${profile} (maxLabs ${limits.maxLabs}); ` +
            'delete one of them and this lab will start',
        };
      }
      if (!fitsBytes) {
        return {
          admitted: false,
          reason: 'QuotaExceeded',
          used: count,
          max: limits.maxLabs,
          message:
            `Owner ${owner} would hold ${fmtBytes(bytes + l.homeBytes)} of home storage with profile ${profile} ` +
            `(maxTotalHomeSize ${fmtBytes(limits.maxTotalHomeBytes ?? 0)}); delete a lab and this lab will start`,
        };
      }
      return { admitted: true, used: count + 1, max: limits.maxLabs };
    }
    if (fitsCount && fitsBytes) {
      count += 1;
      bytes += l.homeBytes;
    }
  }
  // Unreachable: `lab` is always in `live`.
  return { admitted: true, used: count, max: limits.maxLabs };
}
