// The operator's HTTP transport to the apiserver: node:http(s) with client-node's auth and our keep-alive agent.
//
// client-node 1.4 sends every request through node-fetch 2, whose "malformed chunked ending" check misfires on
// reused keep-alive sockets (node-fetch#1767): on Node 20.20 a fresh operator failed its first status writes with
// ERR_STREAM_PREMATURE_CLOSE and then waited forever on requests that never completed, so nothing reconciled.
// Node's own HTTP parser needs no such heuristic, and every call here has a deadline.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import {
  ResponseContext,
  wrapHttpLibrary,
  type HttpLibrary,
  type KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node';

/** Deadline of one request (not of a watch), from sending to the last byte of the response. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** A request failed without an HTTP status: `code` is the Node network code (`ECONNRESET`, `ETIMEDOUT`, …). */
export class NetworkError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
    this.code = code;
  }
}

/** One whole HTTP response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: http.Agent | undefined;
  signal?: AbortSignal | undefined;
  /** Deadline for the whole exchange (default {@link REQUEST_TIMEOUT_MS}). */
  timeoutMs?: number;
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function networkError(err: unknown, url: string): NetworkError {
  if (err instanceof NetworkError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'ENETWORK';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new NetworkError(code, `${message} (${url})`, { cause: err });
}

/** Sends one request and reads the whole response; rejects with a {@link NetworkError} on any failure or deadline. */
export function sendRaw(req: RawRequest): Promise<RawResponse> {
  const timeoutMs = req.timeoutMs ?? REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const u = new URL(req.url);
    const mod = u.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      request.destroy();
      reject(networkError(err, req.url));
    };
    // Content-Length always: Node frames a DELETE body with neither length nor chunking, and the apiserver then
    // reads that body as the start of the next request on the keep-alive connection (a "400 Bad Request").
    const headers =
      req.body === undefined
        ? req.headers
        : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) };
    const request = mod.request(u, {
      method: req.method,
      headers,
      ...(req.agent === undefined ? {} : { agent: req.agent }),
    });
    const timer = setTimeout(
      () => fail(new NetworkError('ETIMEDOUT', `no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = (): void => fail(new NetworkError('ABORT_ERR', 'request aborted'));
    if (req.signal?.aborted === true) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('aborted', () => fail(new NetworkError('ECONNRESET', 'response aborted')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        resolve({
          status: res.statusCode ?? 0,
          headers: flatHeaders(res.headers),
          body: Buffer.concat(chunks),
        });
      });
    });
    request.end(req.body);
  });
}

/** client-node's HttpLibrary on {@link sendRaw}: what the generated API classes call for every request. */
export function nodeHttpLibrary(timeoutMs = REQUEST_TIMEOUT_MS): HttpLibrary {
  return wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      const body = ctx.getBody();
      if (body !== undefined && typeof body !== 'string')
        throw new Error('only string request bodies are sent');
      const r = await sendRaw({
        url: ctx.getUrl(),
        method: ctx.getHttpMethod().toString(),
        headers: ctx.getHeaders(),
        ...(body === undefined ? {} : { body }),
        agent: ctx.getAgent(),
        signal: ctx.getSignal(),
        timeoutMs,
      });
      return new ResponseContext(r.status, r.headers, {
        text: () => Promise.resolve(r.body.toString('utf8')),
        binary: () => Promise.resolve(r.body),
      });
    },
  });
}

/** A watch stream: `stop()` ends it without calling `onDone`. */
export interface RawWatch {
  stop(): void;
}

/**
 * Opens `GET url` (a `watch=true` URL) with the kubeconfig's auth and agent and calls `onLine` with each parsed
 * JSON line. `onDone(null)` on a clean end, `onDone(err)` on a failure or non-200 answer (err.statusCode set).
 */
export async function openWatch(
  kc: KubeConfig,
  url: string,
  onLine: (line: { type: string; object: unknown }) => void,
  onDone: (err: unknown) => void,
): Promise<RawWatch> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  let finished = false;
  const done = (err: unknown): void => {
    if (finished) return;
    finished = true;
    request.destroy();
    onDone(err);
  };
  // Each watch on a connection of its own (`agent: false`; TLS settings come with `opts`): a watch holds its socket
  // for minutes, and watches sharing the requests' pool took every socket of it once the operator ran more informers
  // than the pool had sockets (24 for 4 workers) — every other request then queued forever. Behind a proxy the
  // kubeconfig's own (proxy) agent stays.
  const agent = kc.getCurrentCluster()?.proxyUrl === undefined ? false : opts.agent;
  const request = mod.request(u, { ...opts, agent, method: 'GET' });
  request.on('error', (err) => done(networkError(err, url)));
  request.on('response', (res) => {
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const err = Object.assign(new Error(res.statusMessage ?? `HTTP ${res.statusCode}`), {
          statusCode: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        done(err);
      });
      return;
    }
    // A watch idles for minutes between events: TCP keep-alive notices a peer that vanished.
    res.socket.setKeepAlive(true, 30_000);
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (finished || line.trim() === '') return;
      let parsed: { type: string; object: unknown };
      try {
        parsed = JSON.parse(line) as { type: string; object: unknown };
      } catch {
        done(new NetworkError('EBADWATCH', `unparsable watch line: ${line.slice(0, 200)}`));
        return;
      }
      onLine(parsed);
    });
    // readline re-emits its input's errors: without this listener a reset stream would be an uncaught error.
    lines.on('error', (err) => done(networkError(err, url)));
    res.on('error', (err) => done(networkError(err, url)));
    res.on('aborted', () => done(new NetworkError('ECONNRESET', `watch stream aborted (${url})`)));
    lines.on('close', () => done(null));
  });
  request.end();
  return {
    stop: () => {
      finished = true;
      request.destroy();
    },
  };
}
