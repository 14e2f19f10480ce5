// The webhook transport against a real loopback HTTP server: the connect-time address check lets an allowed
// address through and refuses a forbidden one before any connection is made.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbiddenAddress } from './alerts.js';
import { guardedLookup, postJson, type Resolve } from './webhook-http.js';

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
    const err = await postJson(
      new URL(`http://rebound.test:${port}/a`),
      '{}',
      {},
      { timeoutMs: 5000, lookup },
    ).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
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
      const err = await postJson(
        new URL(`http://imds.test:${port}/a`),
        '{}',
        {},
        { timeoutMs: 5000, lookup },
      ).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
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
