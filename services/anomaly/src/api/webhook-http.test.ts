// The webhook transport against a real loopback HTTP server: the connect-time address check lets an allowed
// address through and refuses a forbidden one before any connection is made.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forbiddenAddress,
  guardedLookup,
  hostMatches,
  loopbackAddress,
  postJson,
  type Resolve,
} from './webhook-http.js';

let server: Server;
let port = 0;
const received: { body: string; signature: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-skyport-signature'] as string | undefined });
      res.writeHead(req.url === '/moved' ? 302 : 204, req.url === '/moved' ? { location: '/x' } : {}).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A resolver that answers from a fixed table (what DNS says at connect time). */
const table =
  (dns: Record<string, string>): Resolve =>
  (host, _opts, cb) => {
    const a = dns[host];
    if (a === undefined) cb(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    else cb(null, [{ address: a, family: 4 }]);
  };

/** The error of a POST of `{}` to `url` resolved through `lookup` (undefined when it succeeds). */
const postError = (
  url: string,
  lookup: ReturnType<typeof guardedLookup>,
): Promise<NodeJS.ErrnoException | undefined> =>
  postJson(new URL(url), '{}', {}, { timeoutMs: 5000, lookup }).then(
    () => undefined,
    (e: unknown) => e as NodeJS.ErrnoException,
  );

describe('postJson with guardedLookup', () => {
  it('delivers to a name that resolves to an allowed address, with body and headers', async () => {
    const lookup = guardedLookup(forbiddenAddress, table({ 'hooks.test': '127.0.0.1' }));
    const status = await postJson(
      new URL(`http://hooks.test:${port}/a`),
      '{"x":1}',
      { 'x-skyport-signature': 's' },
      {
        timeoutMs: 5000,
        lookup,
      },
    );
    expect(status).toBe(204);
    expect(received.at(-1)).toEqual({ body: '{"x":1}', signature: 's' });
  });

  it('refuses a name that resolves to a link-local address at connect time, sending nothing', async () => {
    // (Another name: a kept-alive socket to an address checked when it connected is reused without a lookup.)
    const before = received.length;
    const lookup = guardedLookup(forbiddenAddress, table({ 'rebound.test': '169.254.169.254' }));
    const err = await postError(`http://rebound.test:${port}/a`, lookup);
    expect(err?.code).toBe('EFORBIDDEN');
    expect(err?.message).toContain('rebound.test resolves to 169.254.169.254');
    expect(received.length).toBe(before);
  });

  it.each(['fd00:ec2::254', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe'])(
    'refuses a name that resolves to %s at connect time',
    async (address) => {
      const before = received.length;
      const resolve: Resolve = (_host, _opts, cb) => cb(null, [{ address, family: 6 }]);
      const lookup = guardedLookup(forbiddenAddress, resolve);
      const err = await postError(`http://imds.test:${port}/a`, lookup);
      expect(err?.code).toBe('EFORBIDDEN');
      expect(received.length).toBe(before);
    },
  );

  it('does not follow redirects (the status comes back to the caller)', async () => {
    expect(await postJson(new URL(`http://127.0.0.1:${port}/moved`), '{}', {}, { timeoutMs: 5000 })).toBe(
      302,
    );
  });
});

describe('loopbackAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
  ])('is true for %s', (ip) => expect(loopbackAddress(ip)).toBe(true));
  it.each(['10.0.0.1', '128.0.0.1', '::2', '169.254.169.254', '2001:db8::1'])('is false for %s', (ip) =>
    expect(loopbackAddress(ip)).toBe(false),
  );
});

describe('hostMatches', () => {
  it('matches a host exactly or below a *. suffix, never the bare suffix or a look-alike', () => {
    const allowed = ['hooks.example.org', '*.svc.cluster.local'];
    expect(hostMatches('HOOKS.example.org', allowed)).toBe(true);
    expect(hostMatches('portal.ns.svc.cluster.local', allowed)).toBe(true);
    expect(hostMatches('svc.cluster.local', allowed)).toBe(false);
    expect(hostMatches('evilsvc.cluster.local', allowed)).toBe(false);
    expect(hostMatches('hooks.example.org.evil', allowed)).toBe(false);
    expect(hostMatches('anything', [])).toBe(false);
  });
});
