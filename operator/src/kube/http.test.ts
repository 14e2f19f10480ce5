import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkError, openWatch, sendRaw } from './http.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((ok) => s.close(ok));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function kubeconfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('sendRaw', () => {
  it('reads every chunked response whole when 200 requests share 2 keep-alive sockets', async () => {
    // node-fetch 2 (client-node's transport) fails 198 of these 200 on Node 20.20 with ERR_STREAM_PREMATURE_CLOSE.
    const url = await serve((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
      res.setHeader('Content-Type', 'application/json');
      res.write('{"n":');
      setImmediate(() => res.end(`${n},"pad":"${'x'.repeat((n * 37) % 5000)}"}`));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const bodies = await Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          sendRaw({ url: `${url}/?n=${n}`, method: 'GET', agent }).then(
            (r) => (JSON.parse(r.body.toString()) as { n: number; pad: string }).n,
          ),
        ),
      );
      expect(bodies).toEqual(Array.from({ length: 200 }, (_, n) => n));
    } finally {
      agent.destroy();
    }
  });

  it('gives up on a server that never answers with ETIMEDOUT at its deadline', async () => {
    const url = await serve(() => undefined);
    const started = Date.now();
    const err = await sendRaw({ url, method: 'GET', timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails with the network code when the server resets mid-response', async () => {
    const url = await serve((_req, res) => {
      res.write('{"half":');
      setImmediate(() => res.socket?.destroy());
    });
    const err = await sendRaw({ url, method: 'GET' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toMatch(/^E/);
  });

  it('frames a DELETE body so the next request on the same keep-alive socket is read right', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${body}`);
        res.end('{}');
      });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await sendRaw({ url, method: 'DELETE', body: '{"kind":"DeleteOptions"}', agent });
      const b = await sendRaw({ url, method: 'GET', agent });
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(seen).toEqual(['DELETE {"kind":"DeleteOptions"}', 'GET ']);
    } finally {
      agent.destroy();
    }
  });

  it('sends method, headers and body, and returns status and headers', async () => {
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(201, { 'X-Echo': req.headers['x-test'] ?? '' });
        res.end(JSON.stringify({ method: req.method, body }));
      });
    });
    const r = await sendRaw({ url, method: 'PATCH', headers: { 'X-Test': 'yes' }, body: '{"a":1}' });
    expect(r.status).toBe(201);
    expect(r.headers['x-echo']).toBe('yes');
    expect(JSON.parse(r.body.toString())).toEqual({ method: 'PATCH', body: '{"a":1}' });
  });
});

describe('openWatch', () => {
  it('passes each JSON line with the kubeconfig token, then ends cleanly', async () => {
    let auth: string | undefined;
    const url = await serve((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
      setImmediate(() => res.end('FIED","object":{"metadata":{"name":"a"}}}\n'));
    });
    const lines: string[] = [];
    const done = await new Promise<unknown>((ok) => {
      void openWatch(kubeconfigFor(url), `${url}/api/v1/pods?watch=true`, (l) => lines.push(l.type), ok);
    });
    expect(done).toBeNull();
    expect(lines).toEqual(['ADDED', 'MODIFIED']);
    expect(auth).toBe('Bearer secret-token');
  });

  it('reports a non-200 answer with its status code and body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end('{"kind":"Status","message":"forbidden"}');
    });
    const err = await new Promise<unknown>((ok) => {
      void openWatch(kubeconfigFor(url), `${url}/api/v1/pods?watch=true`, () => undefined, ok);
    });
    expect(err).toMatchObject({ statusCode: 403, body: '{"kind":"Status","message":"forbidden"}' });
  });

  it('stop() ends the stream without calling onDone', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{}}\n');
    });
    let doneCalls = 0;
    let gotLine: () => void = () => undefined;
    const line = new Promise<void>((ok) => (gotLine = ok));
    const w = await openWatch(
      kubeconfigFor(url),
      `${url}/w`,
      () => gotLine(),
      () => (doneCalls += 1),
    );
    await line;
    w.stop();
    await new Promise((ok) => setTimeout(ok, 100));
    expect(doneCalls).toBe(0);
  });
});
