// Webhook POSTs over node:http(s) with a connect-time address check: the address checked is the address connected
// to, so a name that re-resolves between registration and delivery (DNS rebinding) cannot reach a forbidden one.
// Also the SSRF refusal list, host allow-list patterns and the body signature. No dependencies beyond node: the
// operator's job notifications (operator/src/runtime/notify.ts) import this module as `@skyport/anomaly/webhook`.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** `sha256=<hex HMAC of the body>`, sent as X-Skyport-Signature so receivers can verify a delivery. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Addresses a webhook may not reach unless WEBHOOK_ALLOWED_HOSTS names its host: link-local (the instance
 * metadata service of OpenStack and the clouds, 169.254.169.254, which hands out credentials), AWS's IPv6
 * metadata address fd00:ec2::254 (in the private fd00::/8, so not link-local), and unspecified addresses.
 * The IPv4 ranges are refused in every IPv6 spelling that reaches them: IPv4-mapped (::ffff:0:0/96, which
 * BlockList matches against the IPv4 rules itself), IPv4-compatible (::/96) and NAT64 (64:ff9b::/96, RFC 6052).
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addSubnet('::169.254.0.0', 112, 'ipv6');
FORBIDDEN.addSubnet('64:ff9b::169.254.0.0', 112, 'ipv6');
// Not ::0.0.0.0/104 as well: it holds ::1, the loopback address, which webhooks may reach like 127.0.0.1.
FORBIDDEN.addSubnet('64:ff9b::0.0.0.0', 104, 'ipv6');

/** True for an address no webhook may reach without an allow-list entry. */
export function forbiddenAddress(ip: string): boolean {
  return FORBIDDEN.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Loopback in every spelling that reaches it: 127.0.0.0/8 (also as IPv4-mapped, which BlockList matches against
 * the IPv4 rule), ::1, IPv4-compatible ::127.0.0.0/104 and NAT64 64:ff9b::127.0.0.0/104. Separate from
 * {@link forbiddenAddress}: the anomaly service lets webhooks reach loopback, the operator refuses it by default.
 */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::127.0.0.0', 104, 'ipv6');
LOOPBACK.addSubnet('64:ff9b::127.0.0.0', 104, 'ipv6');

/** True for a loopback address. */
export function loopbackAddress(ip: string): boolean {
  return LOOPBACK.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** True when `host` is named by an allow-list entry: the host itself, or `*.suffix` for names below suffix. */
export function hostMatches(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((p) =>
    p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p,
  );
}

/** Resolves every address of a host, as `dns.lookup(host, {all: true})` (injectable for tests). */
export type Resolve = (
  host: string,
  options: LookupOptions,
  cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: Resolve = (host, options, cb) =>
  dnsLookup(host, { ...options, all: true }, (err, addresses) => cb(err, addresses));

/**
 * A socket `lookup` that refuses a host when any of its addresses is `forbidden` (error code `EFORBIDDEN`), and
 * otherwise answers as dns.lookup would (one address, or all when asked). `what` names the refused kind of address.
 */
export function guardedLookup(
  forbidden: (ip: string) => boolean,
  resolve: Resolve = systemResolve,
  what = 'a link-local or unspecified address',
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, addresses) => {
      if (err !== null) return callback(err, '', 0);
      const bad = addresses.find((a) => forbidden(a.address));
      if (bad !== undefined) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${bad.address}, ${what}`);
        e.code = 'EFORBIDDEN';
        return callback(e, '', 0);
      }
      const first = addresses[0];
      if (first === undefined) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
        e.code = 'ENOTFOUND';
        return callback(e, '', 0);
      }
      if (options.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/** POSTs `body` to `url` (no redirects followed); resolves with the status code once the response has been read. */
export function postJson(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; lookup?: LookupFunction },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(opts.timeoutMs),
        ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
