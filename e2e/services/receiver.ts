// A webhook receiver for the job-notification e2e tests: an HTTP server on a free loopback port that answers each
// POST with the next scripted status (200 once the script is used up) and keeps every request it got.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
}

/** A running receiver. */
export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly received: Received[];
  /** Statuses for the next requests to `path`, in order. */
  script(path: string, statuses: readonly number[]): void;
  /** Requests to `path`. */
  to(path: string): Received[];
  close(): Promise<void>;
}

/** Whether `r` carries X-Skyport-Signature: sha256=<hex HMAC-SHA256 of its body under `key`>. */
export function validSignature(r: Received, key: string): boolean {
  const got = Buffer.from(String(r.headers['x-skyport-signature'] ?? ''));
  const want = Buffer.from(`sha256=${createHmac('sha256', key).update(r.body).digest('hex')}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Starts a receiver on 127.0.0.1. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = scripts.get(path)?.shift() ?? 200;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    script: (path, statuses) => scripts.set(path, [...statuses]),
    to: (path) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
