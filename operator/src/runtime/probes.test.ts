// Probe server: status codes and bodies of /healthz, /readyz, /metrics.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RuntimeMetrics } from './metrics.js';
import { ProbeServer } from './probes.js';

describe('ProbeServer', () => {
  it('serves liveness, readiness with named failing checks, and metrics', async () => {
    const metrics = new RuntimeMetrics(new Registry(), false);
    metrics.reconcileTotal.inc({ controller: 'c', result: 'success' });
    let synced = false;
    const server = new ProbeServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      liveness: { ping: () => true },
      readiness: { informers: () => synced || 'informers not synced' },
    });
    const port = await server.listen();
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('[-]informers failed: informers not synced');
    synced = true;
    expect((await get('/readyz')).status).toBe(200);
    const m = await get('/metrics');
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(await m.text()).toContain('controller_runtime_reconcile_total{controller="c",result="success"} 1');
    expect((await get('/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' })).status).toBe(405);
    await server.close();
  });
});
