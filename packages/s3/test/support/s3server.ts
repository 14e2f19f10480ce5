// Starts a real S3-compatible server for integration tests: Versity's S3 gateway (versitygw, Apache-2.0) built by
// e2e/services/s3/build.sh from pinned sources (cached under ~/.cache/skyport), serving a temp folder on a free
// loopback port with fresh keys and one bucket; stopped by its PID. docs/adr/0013-s3-results.md.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, type S3ClientOptions } from '../../src/client.js';
import type { Credentials } from '../../src/sigv4.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function freePort(host: string): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** A running S3 server with one bucket. */
export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: Credentials;
  /** Where the server keeps the objects (a bucket is a folder; tests look for stray files here). */
  readonly dataDir: string;
  /** A client of the bucket (path-style, as S3-compatible servers on an IP need). */
  client(opts?: Partial<S3ClientOptions>): S3Client;
  stop(): Promise<void>;
}

/** The versitygw binary (built on first use; `bash e2e/services/s3/build.sh` does it ahead). */
export function versitygw(): string {
  const out = execFileSync('bash', [join(ROOT, 'e2e/services/s3/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bin = out.trim().split('\n').pop() ?? '';
  if (!existsSync(bin)) throw new Error(`e2e/services/s3/build.sh printed no binary (${out})`);
  return bin;
}

/**
 * Starts versitygw with one bucket on a free port of `host` (loopback by default; the real-node tier passes the
 * node bridge's host address, which pods reach).
 */
export async function startS3(bucket = 'skyport-results', opts: { host?: string } = {}): Promise<S3Server> {
  const host = opts.host ?? '127.0.0.1';
  const bin = versitygw();
  const dir = mkdtempSync(join(tmpdir(), 'skyport-s3-'));
  const dataDir = join(dir, 'data');
  const sidecar = join(dir, 'meta');
  mkdirSync(dataDir);
  mkdirSync(sidecar);
  const port = await freePort(host);
  const credentials = {
    accessKeyId: 'SKY' + randomBytes(8).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const region = 'us-east-1';
  const log = join(dir, 'versitygw.log');
  const fd = openSync(log, 'a');
  // Keys in the environment, not argv: ps would show them. Metadata in a sidecar folder: any filesystem works.
  const child = spawn(
    bin,
    ['--port', `${host}:${port}`, '--region', region, '--quiet', 'posix', '--sidecar', sidecar, dataDir],
    {
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
        ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
    },
  );
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const endpoint = `http://${host}:${port}`;
  const client = (opts: Partial<S3ClientOptions> = {}): S3Client =>
    new S3Client({ endpoint, bucket, region, forcePathStyle: true, credentials, ...opts });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client({ timeoutMs: 2000 }).createBucket();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `versitygw did not start: ${String(err)}\n${readFileSync(log, 'utf8').slice(-2000)}`,
          {
            cause: err,
          },
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    bucket,
    region,
    credentials,
    dataDir,
    client,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
