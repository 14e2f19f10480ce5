// HTTP server for /healthz, /readyz and /metrics (controller-runtime's probe endpoints on one port).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness or liveness check; return `true` or a reason string for failure. */
export type Check = () => true | string;

/** Options of {@link ProbeServer}. */
export interface ProbeServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Checks for /healthz (the event loop answering is the implicit first check). */
  liveness?: Record<string, Check>;
  /** Checks for /readyz. */
  readiness?: Record<string, Check>;
}

function run(checks: Record<string, Check>): { ok: boolean; body: string } {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    let r: true | string;
    try {
      r = check();
    } catch (err) {
      r = err instanceof Error ? err.message : String(err);
    }
    if (r === true) lines.push(`[+]${name} ok`);
    else {
      ok = false;
      lines.push(`[-]${name} failed: ${r}`);
    }
  }
  lines.push(ok ? 'ok' : 'check failed');
  return { ok, body: `${lines.join('\n')}\n` };
}

/** Serves the probes and metrics; `listen()` resolves with the bound port. */
export class ProbeServer {
  private readonly server: Server;

  constructor(private readonly opts: ProbeServerOptions) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      if (path === '/healthz' || path === '/livez') {
        const r = run(this.opts.liveness ?? {});
        res.writeHead(r.ok ? 200 : 500, { 'content-type': 'text/plain' }).end(r.body);
      } else if (path === '/readyz') {
        const r = run(this.opts.readiness ?? {});
        res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(r.body);
      } else if (path === '/metrics') {
        this.opts.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.opts.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
  }

  /** Starts listening; resolves with the actual port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections and closes idle keep-alive sockets. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
