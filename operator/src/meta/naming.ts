// Deterministic, DNS-safe names for children and label values (no generateName: CONTRIBUTING.md §4).
import { createHash } from 'node:crypto';

/** Max length of a DNS-1123 label (Service, Pod hostname, label value). */
export const DNS1123_LABEL_MAX = 63;
/** Max length of a DNS-1123 subdomain (most object names). */
export const DNS1123_SUBDOMAIN_MAX = 253;

const HASH_LEN = 8;

/** First 8 hex chars of SHA-256 over the input: a stable suffix that keeps truncated names distinct. */
export function shortHash(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, HASH_LEN);
}

function sanitize(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .replace(/-+$/, '');
}

/**
 * Joins parts into a DNS-1123 label (lower-case alphanumerics and `-`, starts and ends alphanumeric,
 * ≤ `max` chars). The result is deterministic; when the sanitised name changes or is too long it is
 * truncated and given a hash of the original parts, so distinct inputs keep distinct names.
 *
 * @example dnsLabel('alice', 'notebook') === 'alice-notebook'
 */
export function dnsLabel(parts: readonly string[] | string, max = DNS1123_LABEL_MAX): string {
  const list = typeof parts === 'string' ? [parts] : parts;
  const joined = list.join('-');
  const clean = sanitize(joined);
  if (clean.length > 0 && clean.length <= max && clean === joined) return clean;
  const hash = shortHash(joined);
  const room = max - HASH_LEN - 1;
  const head = sanitize(clean.slice(0, room));
  return head.length > 0 ? `${head}-${hash}` : `x-${hash}`;
}

/** Like {@link dnsLabel} but allows up to 253 characters (object names that need not be labels). */
export function dnsSubdomain(parts: readonly string[] | string): string {
  return dnsLabel(parts, DNS1123_SUBDOMAIN_MAX);
}

/** Name of a child: `<owner>-<component>`, a valid DNS-1123 label, hashed when too long. */
export function childName(ownerName: string, component: string): string {
  return dnsLabel([ownerName, component]);
}

/**
 * A valid label value (≤ 63 chars of `[A-Za-z0-9._-]`, alphanumeric at both ends, or empty).
 * Longer or invalid values are truncated and hash-suffixed deterministically.
 */
export function labelValue(raw: string): string {
  if (raw === '') return '';
  if (/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(raw)) return raw;
  const clean = raw.replace(/[^A-Za-z0-9._-]+/g, '-');
  const head = clean.slice(0, DNS1123_LABEL_MAX - HASH_LEN - 1).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return head.length > 0 ? `${head}-${shortHash(raw)}` : shortHash(raw);
}
