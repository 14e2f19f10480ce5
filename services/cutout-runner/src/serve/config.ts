// The results server's configuration from its environment (the operator's Deployment sets it; see the README,
// "Results server"), and the start-up that reads the mounted Secret and picks the apiserver access.

import { readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import { podAccess, type KubeAccess } from '@skyport/service-kit/kube-access';
import { KubeJobLookup } from './jobs.js';
import { createResultsServer } from './server.js';
import { Signer } from '@skyport/service-kit/signing';
import { Users } from '@skyport/service-kit/users';

export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

export interface ServeConfig {
  readonly port: number;
  /** Address to listen on; every interface when unset (a pod's). */
  readonly host?: string;
  readonly resultsDir: string;
  readonly collection: string;
  readonly tokensFile: string;
  readonly signingKeyFile: string;
  readonly urlSeconds: number;
  readonly publicUrl?: string;
  /** Namespace of the CutoutJobs; the ServiceAccount's when unset. */
  readonly namespace?: string;
  /** Apiserver URL and token file instead of the in-cluster ones (a server run outside a pod). */
  readonly apiServer?: string;
  readonly apiTokenFile?: string;
  readonly apiCaFile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function need(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new ServeConfigError(`${name} is required`);
  return v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ServeConfigError(
      `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  return n;
}

const opt = (env: Env, name: string): string | undefined =>
  env[name] === undefined || env[name] === '' ? undefined : env[name];

/** Reads the CUTOUT_SERVE_* variables; an error names the variable. */
export function serveConfig(env: Env): ServeConfig {
  const publicUrl = opt(env, 'CUTOUT_SERVE_PUBLIC_URL');
  const host = opt(env, 'CUTOUT_SERVE_HOST');
  const namespace = opt(env, 'CUTOUT_SERVE_NAMESPACE');
  const apiServer = opt(env, 'CUTOUT_SERVE_APISERVER');
  const apiTokenFile = opt(env, 'CUTOUT_SERVE_APISERVER_TOKEN_FILE');
  const apiCaFile = opt(env, 'CUTOUT_SERVE_APISERVER_CA_FILE');
  if (apiServer !== undefined && (apiTokenFile === undefined || namespace === undefined))
    throw new ServeConfigError(
      'CUTOUT_SERVE_APISERVER needs CUTOUT_SERVE_APISERVER_TOKEN_FILE and CUTOUT_SERVE_NAMESPACE',
    );
  return {
    port: int(env, 'CUTOUT_SERVE_PORT', 8080, 0, 65535),
    ...(host !== undefined && { host }),
    resultsDir: need(env, 'CUTOUT_SERVE_RESULTS_DIR'),
    collection: need(env, 'CUTOUT_SERVE_COLLECTION'),
    tokensFile: need(env, 'CUTOUT_SERVE_TOKENS_FILE'),
    signingKeyFile: need(env, 'CUTOUT_SERVE_SIGNING_KEY_FILE'),
    urlSeconds: int(env, 'CUTOUT_SERVE_URL_SECONDS', 900, 10, 86_400),
    ...(publicUrl !== undefined && { publicUrl: publicUrl.replace(/\/+$/, '') }),
    ...(namespace !== undefined && { namespace }),
    ...(apiServer !== undefined && { apiServer }),
    ...(apiTokenFile !== undefined && { apiTokenFile }),
    ...(apiCaFile !== undefined && { apiCaFile }),
  };
}

/** The HMAC key: the file's text, trimmed, at least 32 bytes (as the TAP service's). */
export function readSigningKey(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  if (key.length < 32)
    throw new ServeConfigError(`the signing key in ${path} is ${key.length} bytes; at least 32 needed`);
  return key;
}

/**
 * The tokens file's users, re-read when its modification time changes (checked at most every `checkMs`): a user
 * the admin adds to the Secret can sign in once the kubelet has updated the mounted file, without a restart. A file
 * that no longer parses keeps the last good users (and says why on stderr).
 */
export function reloadingUsers(path: string, checkMs = 10_000, now: () => number = Date.now): () => Users {
  let users = Users.parse(readFileSync(path, 'utf8'), path);
  let mtime = statSync(path).mtimeMs;
  let checked = now();
  return () => {
    if (now() - checked < checkMs) return users;
    checked = now();
    try {
      const m = statSync(path).mtimeMs;
      if (m !== mtime) {
        users = Users.parse(readFileSync(path, 'utf8'), path);
        mtime = m;
      }
    } catch (e) {
      console.error(`Kept the previous tokens: ${e instanceof Error ? e.message : String(e)}`);
    }
    return users;
  };
}

/** Starts the server; resolves once it listens, with its port. */
export async function startServe(
  env: Env,
): Promise<{ server: http.Server; port: number; close: () => Promise<void> }> {
  const cfg = serveConfig(env);
  const users = reloadingUsers(cfg.tokensFile);
  const signer = new Signer(readSigningKey(cfg.signingKeyFile), cfg.urlSeconds);
  let access: KubeAccess;
  let namespace: string;
  if (cfg.apiServer !== undefined && cfg.apiTokenFile !== undefined && cfg.namespace !== undefined) {
    const tokenFile = cfg.apiTokenFile;
    access = {
      server: cfg.apiServer,
      token: () => readFileSync(tokenFile, 'utf8').trim(),
      ...(cfg.apiCaFile !== undefined && { ca: readFileSync(cfg.apiCaFile, 'utf8') }),
    };
    namespace = cfg.namespace;
  } else {
    const a = podAccess(env);
    access = a;
    namespace = cfg.namespace ?? a.namespace;
  }
  const jobs = new KubeJobLookup(access, namespace);
  const server = createResultsServer({
    root: cfg.resultsDir,
    collection: cfg.collection,
    users,
    signer,
    jobs,
    ...(cfg.publicUrl !== undefined && { publicUrl: cfg.publicUrl }),
    onError: (m) => console.error(`Request failed: ${m}`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (cfg.host === undefined) server.listen(cfg.port, resolve);
    else server.listen(cfg.port, cfg.host, resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port;
  console.log(
    JSON.stringify({ msg: 'Serving CutoutJob results', port, collection: cfg.collection, namespace }),
  );
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        jobs.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
