// Webhook POSTs over node:http(s) with a connect-time address check: the address checked is the address connected
// to, so a name that re-resolves between registration and delivery (DNS rebinding) cannot reach a forbidden one.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

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
 * otherwise answers as dns.lookup would (one address, or all when asked).
 */
export function guardedLookup(
  forbidden: (ip: string) => boolean,
  resolve: Resolve = systemResolve,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, addresses) => {
      if (err !== null) return callback(err, '', 0);
      const bad = addresses.find((a) => forbidden(a.address));
      if (bad !== undefined) {
        const e: NodeJS.ErrnoException = new Error(
          `${hostname} resolves to ${bad.address}, a link-local or unspecified address`,
        );
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
