// Tests the Jupyter activity resolver against a real HTTP server on loopback speaking `/api/status`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityError, JupyterActivityResolver, expandActivityUrl, parseJupyterStatus } from './activity.js';
import type { ActivityTarget } from './activity.js';

const target: ActivityTarget = {
  namespace: 'nb',
  name: 'alice-lab',
  owner: 'alice',
  service: 'alice-lab-lab',
  basePath: '/user/alice/alice-lab/',
  token: 's3cret',
};

describe('expandActivityUrl', () => {
  it('fills every placeholder', () => {
    expect(expandActivityUrl('http://{service}.{namespace}.svc:8888{basePath}api/status', target)).toBe(
      'http://alice-lab-lab.nb.svc:8888/user/alice/alice-lab/api/status',
    );
    expect(expandActivityUrl('http://127.0.0.1:9/{namespace}/{name}/{owner}', target)).toBe(
      'http://127.0.0.1:9/nb/alice-lab/alice',
    );
  });
});

describe('parseJupyterStatus', () => {
  it('reads last_activity and kernels', () => {
    const a = parseJupyterStatus('{"last_activity":"2026-11-21T10:00:00.123Z","kernels":2}', 'u');
    expect(a.lastActivity.toISOString()).toBe('2026-11-21T10:00:00.123Z');
    expect(a.kernels).toBe(2);
  });
  it('names the problem', () => {
    expect(() => parseJupyterStatus('nope', 'u')).toThrow(ActivityError);
    expect(() => parseJupyterStatus('{}', 'u')).toThrow(/no last_activity/);
    expect(() => parseJupyterStatus('{"last_activity":"yesterday"}', 'u')).toThrow(/invalid last_activity/);
  });
});

describe('JupyterActivityResolver', () => {
  let server: http.Server;
  let base = '';
  const seen: { url: string; auth: string | undefined }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      if (req.headers.authorization !== 'token s3cret') {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          last_activity: '2026-11-21T09:30:00Z',
          kernels: 0,
          started: '2026-11-21T09:00:00Z',
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the token and parses the answer', async () => {
    const r = new JupyterActivityResolver({ urlTemplate: `${base}/{namespace}/{name}{basePath}api/status` });
    const a = await r.resolve(target);
    r.close();
    expect(a?.lastActivity.toISOString()).toBe('2026-11-21T09:30:00.000Z');
    expect(seen.at(-1)).toEqual({
      url: '/nb/alice-lab/user/alice/alice-lab/api/status',
      auth: 'token s3cret',
    });
  });
  it('returns undefined on a wrong token or an unreachable server', async () => {
    const r = new JupyterActivityResolver({ urlTemplate: `${base}/x`, timeoutMs: 2000 });
    expect(await r.resolve({ ...target, token: 'wrong' })).toBeUndefined();
    r.close();
    const dead = new JupyterActivityResolver({ urlTemplate: 'http://127.0.0.1:1/x', timeoutMs: 2000 });
    expect(await dead.resolve(target)).toBeUndefined();
    dead.close();
  });
  it('gives up on a server that accepts but never answers at its deadline', async () => {
    const hung = http.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as AddressInfo).port;
    const r = new JupyterActivityResolver({ urlTemplate: `http://127.0.0.1:${port}/x`, timeoutMs: 300 });
    const t0 = performance.now();
    expect(await r.resolve(target)).toBeUndefined();
    const took = performance.now() - t0;
    r.close();
    hung.closeAllConnections();
    await new Promise<void>((done) => hung.close(() => done()));
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_500);
  });
  it('gives up at its deadline while the name is still resolving', async () => {
    // A lookup that never calls back, as a resolver that does not answer for `<svc>.<ns>.svc`.
    const r = new JupyterActivityResolver({
      urlTemplate: 'http://{service}.{namespace}.svc:8888{basePath}api/status',
      timeoutMs: 300,
      lookup: () => undefined,
    });
    const t0 = performance.now();
    expect(await r.resolve(target)).toBeUndefined();
    const took = performance.now() - t0;
    r.close();
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_500);
  });
});
