// Shared set-up for the runtime e2e suites: the cluster's kubeconfig, a test CRD, a faultable TCP proxy.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type {} from '../cluster/global-setup.js';
import { crdManifest } from '../../operator/src/api/v1alpha1/crds.js';
import { eventually, kubectl } from '../cluster/index.js';
import { WIDGET, widgetDefinition } from './fixtures/api/widget/index.js';

/** Admin kubeconfig of the cluster the global setup started (or SKYPORT_KUBECONFIG). */
export function adminKubeconfig(): string {
  const fromEnv = process.env.SKYPORT_KUBECONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return inject('skyportKubeconfig');
}

export { WIDGET } from './fixtures/api/widget/index.js';

let crdReady: Promise<void> | undefined;

/** Installs the Widget CRD once per process and waits until it is served. */
export function ensureWidgetCrd(kubeconfig: string): Promise<void> {
  crdReady ??= (async () => {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
      kubeconfig,
      input: JSON.stringify(crdManifest(widgetDefinition)),
    });
    await kubectl(
      ['wait', '--for=condition=Established', `crd/${WIDGET.plural}.${WIDGET.group}`, '--timeout=60s'],
      { kubeconfig },
    );
    await eventually(() => kubectl(['get', `${WIDGET.plural}.${WIDGET.group}`, '-A'], { kubeconfig }), {
      timeoutMs: 30_000,
      description: 'Widget CRD served',
    });
  })();
  return crdReady;
}

/**
 * A TCP proxy on 127.0.0.1 in front of the apiserver (TLS passes through untouched; the serving cert
 * covers 127.0.0.1). `cut()` resets every open connection; `pause()` refuses new ones until `resume()`.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.resetAndDestroy();
        return;
      }
      this.accepted++;
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
    this.port = addr.port;
    return this.port;
  }

  /** Resets every open connection (an abrupt network failure mid-watch). */
  cut(): void {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  /** Cuts and refuses new connections until `resume()` (the apiserver is unreachable). */
  pause(): void {
    this.refusing = true;
    this.cut();
  }

  resume(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes a copy of `kubeconfig` whose server URL points at `port` on 127.0.0.1; returns its path and the original target. */
export function proxiedKubeconfig(
  kubeconfig: string,
  port: number,
): { path: string; target: { host: string; port: number } } {
  const text = readFileSync(kubeconfig, 'utf8');
  const m = /server:\s*https:\/\/(127\.0\.0\.1|localhost):(\d+)/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined)
    throw new Error(`${kubeconfig}: no https://127.0.0.1:<port> server found`);
  const dir = mkdtempSync(join(tmpdir(), 'skyport-proxy-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, text.replace(m[0], `server: https://${m[1]}:${port}`));
  return { path, target: { host: '127.0.0.1', port: Number(m[2]) } };
}

/** The apiserver port of a kubeconfig (for the proxy target). */
export function apiserverTarget(kubeconfig: string): { host: string; port: number } {
  const m = /server:\s*https:\/\/(?:127\.0\.0\.1|localhost):(\d+)/.exec(readFileSync(kubeconfig, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`${kubeconfig}: no https://127.0.0.1:<port> server found`);
  return { host: '127.0.0.1', port: Number(m[1]) };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
