// The TAP service's own small apiserver client (services never import the operator, CONTRIBUTING "Where things
// go"): JSON requests and one watch over node:http(s), authenticated by a ServiceAccount token file and CA.
//
// It does not use @kubernetes/client-node's transport for the reason the operator replaced it
// (operator/src/kube/http.ts): node-fetch 2's keep-alive check misfired on Node 20.20 and left requests hanging.
// As there, every request has a deadline, a body always goes with Content-Length, and a watch gets a connection
// of its own so it never holds a socket the requests need.

import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeAccess } from '@skyport/service-kit/kube-access';

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class KubeClient {
  private readonly agent: http.Agent;

  constructor(private readonly access: KubeAccess) {
    const tls = access.server.startsWith('https:');
    this.agent = tls
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 16,
          ...(access.ca !== undefined && { ca: access.ca }),
        })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  private options(method: string, headers: Record<string, string>, agent: http.Agent | false) {
    return {
      method,
      headers: { Accept: 'application/json', Authorization: `Bearer ${this.access.token()}`, ...headers },
      agent,
      ...(agent === false && this.access.ca !== undefined && { ca: this.access.ca }),
    };
  }

  private mod(): typeof http | typeof https {
    return this.access.server.startsWith('https:') ? https : http;
  }

  /** One JSON request; resolves with the parsed body of a 2xx answer, else rejects with a {@link KubeError}. */
  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> =
      payload === undefined
        ? {}
        : { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) };
    return new Promise<T>((resolve, reject) => {
      const req = this.mod().request(
        new URL(path, this.access.server),
        this.options(method, headers, this.agent),
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer to ${method} ${path} within ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const s = (parsed ?? {}) as { reason?: unknown; message?: unknown };
          reject(
            new KubeError(
              status,
              typeof s.reason === 'string' ? s.reason : `HTTP${status}`,
              `${method} ${path}: ${typeof s.message === 'string' ? s.message : text.slice(0, 300) || status}`,
            ),
          );
        });
      });
      req.end(payload);
    });
  }

  /**
   * Watches `path` (a list URL; `watch=1` is added) until `onEvent` returns true, the server ends the watch, or
   * `signal` aborts. Resolves in every case; rejects only when the watch cannot be opened.
   */
  watch(path: string, onEvent: (e: WatchEvent) => boolean, signal: AbortSignal): Promise<void> {
    const url = new URL(path, this.access.server);
    url.searchParams.set('watch', '1');
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      // A connection of its own: a watch holds its socket for as long as it waits.
      const req = this.mod().request(url, this.options('GET', {}, false));
      const end = (): void => {
        signal.removeEventListener('abort', end);
        req.destroy();
        resolve();
      };
      signal.addEventListener('abort', end, { once: true });
      req.on('error', (err) => {
        signal.removeEventListener('abort', end);
        reject(err);
      });
      req.on('response', (res) => {
        // Ending the watch destroys the response mid-stream ("aborted"): expected, not an error. readline
        // re-emits its input's errors, so it needs a listener too.
        res.on('error', end);
        if (res.statusCode !== 200) {
          res.resume();
          signal.removeEventListener('abort', end);
          req.destroy();
          reject(new KubeError(res.statusCode ?? 0, `HTTP${res.statusCode}`, `watch ${path} refused`));
          return;
        }
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (line.trim() === '') return;
          let e: WatchEvent;
          try {
            e = JSON.parse(line) as WatchEvent;
          } catch {
            return end();
          }
          if (onEvent(e)) end();
        });
        lines.on('close', end);
        lines.on('error', end);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
