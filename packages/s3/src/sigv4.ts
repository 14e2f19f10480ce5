// AWS Signature Version 4 for S3 (header-signed requests and presigned URLs), written from AWS's published
// algorithm and tested against its documented examples (sigv4.test.ts; docs/adr/0013-s3-results.md says why
// not a package). Pure: the clock is a parameter.

import { createHash, createHmac } from 'node:crypto';

/** An access key pair (a Secret's two keys). */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** SHA-256 of the empty payload. */
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
/** x-amz-content-sha256 of a payload the signature does not cover (presigned URLs). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Longest lifetime SigV4 allows a presigned URL (7 days). */
export const MAX_PRESIGN_SECONDS = 604_800;

/** A request to sign: `path` already URI-encoded (as sent), `query` raw (encoded here). */
export interface SignInput {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  /** Headers to sign besides host (names any case; values trimmed). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD. */
  readonly payloadSha256: string;
  readonly region: string;
  readonly service?: string;
  readonly credentials: Credentials;
  readonly now: Date;
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper case). */
export function uriEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `20130524T000000Z` and `20130524`. */
export function amzDate(now: Date): { dateTime: string; date: string } {
  const dateTime = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { dateTime, date: dateTime.slice(0, 8) };
}

function canonicalQuery(query: readonly (readonly [string, string])[]): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The signing key of a day, region and service. */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}

interface Canonical {
  readonly request: string;
  readonly signedHeaders: string;
}

function canonicalRequest(i: SignInput, query: readonly (readonly [string, string])[]): Canonical {
  const headers = new Map<string, string>([['host', i.host]]);
  for (const [k, v] of Object.entries(i.headers ?? {}))
    headers.set(k.toLowerCase(), v.trim().replace(/\s+/g, ' '));
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const request = [
    i.method,
    i.path,
    canonicalQuery(query),
    names.map((n) => `${n}:${headers.get(n) ?? ''}\n`).join(''),
    signedHeaders,
    i.payloadSha256,
  ].join('\n');
  return { request, signedHeaders };
}

function signature(i: SignInput, scope: string, dateTime: string, date: string, canonical: string): string {
  const service = i.service ?? 's3';
  const toSign = [
    'AWS4-HMAC-SHA256',
    dateTime,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  return createHmac('sha256', signingKey(i.credentials.secretAccessKey, date, i.region, service))
    .update(toSign)
    .digest('hex');
}

/** The canonical request's text (for tests against AWS's examples and for debugging a SignatureDoesNotMatch). */
export function canonicalRequestText(i: SignInput): string {
  return canonicalRequest(i, i.query ?? []).request;
}

/**
 * Signs a request in the Authorization header: returns the headers to send (the caller's, plus
 * x-amz-date, x-amz-content-sha256 and Authorization). The caller must send exactly these and the host.
 */
export function signHeaders(i: SignInput): Record<string, string> {
  const { dateTime, date } = amzDate(i.now);
  const headers = { ...i.headers, 'x-amz-date': dateTime, 'x-amz-content-sha256': i.payloadSha256 };
  const input = { ...i, headers };
  const scope = `${date}/${i.region}/${i.service ?? 's3'}/aws4_request`;
  const c = canonicalRequest(input, i.query ?? []);
  const sig = signature(input, scope, dateTime, date, c.request);
  return {
    ...headers,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${c.signedHeaders}, Signature=${sig}`,
  };
}

/**
 * The query string of a presigned URL (X-Amz-* and the caller's own parameters, encoded), valid for
 * `expiresSeconds` from `now`; only the host header is signed, the payload is not.
 */
export function presignQuery(
  i: Omit<SignInput, 'payloadSha256' | 'headers'>,
  expiresSeconds: number,
): string {
  if (!(Number.isInteger(expiresSeconds) && expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGN_SECONDS))
    throw new RangeError(
      `presign: expiresSeconds must be 1 to ${MAX_PRESIGN_SECONDS}, got ${expiresSeconds}`,
    );
  const { dateTime, date } = amzDate(i.now);
  const scope = `${date}/${i.region}/${i.service ?? 's3'}/aws4_request`;
  const query: (readonly [string, string])[] = [
    ...(i.query ?? []),
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${i.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', dateTime],
    ['X-Amz-Expires', String(expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const input: SignInput = { ...i, payloadSha256: UNSIGNED_PAYLOAD };
  const c = canonicalRequest(input, query);
  const sig = signature(input, scope, dateTime, date, c.request);
  return canonicalQuery([...query, ['X-Amz-Signature', sig]]);
}
