// Talking to a real JupyterLab server from the host: `kubectl port-forward` through the apiserver and the kubelet
// (no route or DNS needed, and NetworkPolicies do not apply to it), Jupyter's REST API with the lab's token, and a
// kernel's channels over its websocket (Jupyter messaging protocol 5.3, JSON frames).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { binDir } from '../cluster/index.js';

/** A running `kubectl port-forward` to port 8888 of a Pod or Service. */
export interface PortForward {
  port: number;
  /** Whether kubectl is still running (it exits when the pod goes away). */
  alive(): boolean;
  close(): void;
}

/**
 * Starts `kubectl port-forward -n NS TARGET :8888` on a free loopback port; resolves once kubectl says where it
 * listens, rejects with kubectl's complaint if it exits first (e.g. the pod is not running yet).
 */
export function portForward(
  kubeconfig: string,
  ns: string,
  target: string,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const child: ChildProcess = spawn(
    join(binDir(), 'kubectl'),
    [`--kubeconfig=${kubeconfig}`, 'port-forward', '-n', ns, '--address=127.0.0.1', target, ':8888'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited = false;
  child.on('exit', () => (exited = true));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(
        new Error(`port-forward ${ns}/${target}: no listening port after ${timeoutMs} ms: ${err.trim()}`),
      );
    }, timeoutMs);
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ port: Number(m[1]), alive: () => !exited, close: () => void child.kill('SIGTERM') });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${ns}/${target} exited (${code ?? 'signal'}): ${err.trim()}`));
    });
  });
}

/** One answer of the Jupyter REST API. */
export interface JupyterAnswer<T = unknown> {
  status: number;
  body: T;
}

/** A Jupyter message as it travels on the kernel websocket. */
interface KernelMessage {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  channel: string;
  content: Record<string, unknown>;
}

/** Jupyter's REST and kernel APIs at `http://127.0.0.1:<port><basePath>` with `Authorization: token <token>`. */
export class JupyterClient {
  constructor(
    readonly port: number,
    readonly basePath: string,
    readonly token: string,
  ) {}

  /** `<method> <basePath><path>` with the token; the body is parsed as JSON when it is JSON. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<JupyterAnswer<T>> {
    const res = await fetch(`http://127.0.0.1:${this.port}${this.basePath}${path}`, {
      method,
      headers: { Authorization: `token ${this.token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** Starts a kernel (the image's default, python3) and returns its id. */
  async startKernel(): Promise<string> {
    const r = await this.api<{ id: string }>('POST', 'api/kernels', {});
    if (r.status !== 201) throw new Error(`POST api/kernels: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }

  /** Opens the kernel's channels websocket. */
  connect(kernelId: string): Promise<WebSocket> {
    const url = `ws://127.0.0.1:${this.port}${this.basePath}api/kernels/${kernelId}/channels`;
    const ws = new WebSocket(url, { headers: { Authorization: `token ${this.token}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`websocket ${url}: HTTP ${res.statusCode ?? '?'}`)),
      );
    });
  }

  /** Sends an execute_request on the shell channel; returns its msg_id (replies name it as parent). */
  static sendExecute(ws: WebSocket, code: string): string {
    const msgId = randomUUID();
    ws.send(
      JSON.stringify({
        header: {
          msg_id: msgId,
          msg_type: 'execute_request',
          username: 'e2e',
          session: randomUUID(),
          date: new Date().toISOString(),
          version: '5.3',
        },
        parent_header: {},
        metadata: {},
        channel: 'shell',
        buffers: [],
        content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
      }),
    );
    return msgId;
  }

  /**
   * Executes `code` in a new kernel and resolves with its `text/plain` result (or printed output when there is no
   * result); rejects with the kernel's traceback on an error, or when no reply comes in `timeoutMs`.
   */
  async execute(code: string, timeoutMs = 60_000): Promise<string> {
    const ws = await this.connect(await this.startKernel());
    try {
      return await new Promise<string>((resolve, reject) => {
        let result: string | undefined;
        let stream = '';
        const timer = setTimeout(() => reject(new Error(`no execute_reply in ${timeoutMs} ms`)), timeoutMs);
        const msgId = JupyterClient.sendExecute(ws, code);
        ws.on('message', (data: Buffer) => {
          const m = JSON.parse(data.toString()) as KernelMessage;
          // The server reports a kernel that died (e.g. OOM-killed) as restarting/dead, with no parent.
          const state = m.header.msg_type === 'status' ? m.content['execution_state'] : undefined;
          if (state === 'restarting' || state === 'dead') {
            clearTimeout(timer);
            reject(new Error(`kernel ${state} before execute_reply`));
          }
          if (m.parent_header.msg_id !== msgId) return;
          const c = m.content;
          if (m.header.msg_type === 'execute_result')
            result = String((c['data'] as Record<string, unknown>)['text/plain']);
          else if (m.header.msg_type === 'stream') stream += String(c['text']);
          else if (m.header.msg_type === 'execute_reply') {
            clearTimeout(timer);
            if (c['status'] === 'ok') resolve(result ?? stream);
            else reject(new Error(`${String(c['ename'])}: ${String(c['evalue'])}`));
          }
        });
        ws.on('close', () => reject(new Error('kernel websocket closed before execute_reply')));
      });
    } finally {
      ws.close();
    }
  }
}

/** The loopback forwarder of {@link startActivityForwarder}. */
export interface ActivityForwarder {
  /** SKYPORT_ACTIVITY_URL_TEMPLATE for the operator. */
  urlTemplate: string;
  /** Requests forwarded, by `<namespace>/<service>`. */
  forwarded(key: string): number;
  close(): Promise<void>;
}

/**
 * The operator runs on the host, which cannot resolve `<svc>.<ns>.svc`: it asks this loopback server instead
 * (`/<namespace>/<service><basePath>api/status`), which forwards the request, token header included, unchanged to
 * the lab's real server through a `kubectl port-forward svc/<service>` (restarted when the pod behind it changed).
 */
export async function startActivityForwarder(kubeconfig: string): Promise<ActivityForwarder> {
  const forwards = new Map<string, Promise<PortForward>>();
  const counts = new Map<string, number>();
  const forwardFor = (ns: string, svc: string): Promise<PortForward> => {
    const key = `${ns}/${svc}`;
    let f = forwards.get(key);
    if (f === undefined) {
      f = portForward(kubeconfig, ns, `svc/${svc}`, 10_000);
      forwards.set(key, f);
      f.catch(() => forwards.delete(key));
    }
    return f;
  };
  const drop = (key: string): void => {
    void forwards.get(key)?.then(
      (f) => f.close(),
      () => undefined,
    );
    forwards.delete(key);
  };
  const server = http.createServer((req, res) => {
    const m = /^\/([^/]+)\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    const [, ns = '', svc = '', path = ''] = m;
    const key = `${ns}/${svc}`;
    const fail = (): void => {
      drop(key);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    };
    forwardFor(ns, svc).then((f) => {
      if (!f.alive()) return fail();
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const headers = { ...req.headers, host: `127.0.0.1:${f.port}` };
      const up = http.request({ host: '127.0.0.1', port: f.port, path, method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', fail);
      req.pipe(up);
    }, fail);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    urlTemplate: `http://127.0.0.1:${port}/{namespace}/{service}{basePath}api/status`,
    forwarded: (key) => counts.get(key) ?? 0,
    async close() {
      for (const key of [...forwards.keys()]) drop(key);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
