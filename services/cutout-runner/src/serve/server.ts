// The results server of an ImageCollection (`main.ts serve`, issue 14): a CutoutJob's owner lists the job's result
// files, each with a short-lived signed URL, and anyone holding such a URL downloads the file without a token. The
// owner comes from the CutoutJob itself (a {@link JobLookup}: the apiserver in a pod), the files from the results
// volume (`<root>/cutoutjobs/<name>-<uid8>/`, mounted read-only). Routes:
//   GET /healthz                       200 (the probes)
//   GET /cutoutjobs/<name>[?offset&limit]   bearer token; the owner's job → JSON list; anyone else 404
//   GET|HEAD /files/<name>-<uid8>/<path>?expires&sig   the file, streamed; a bad or late signature 403
// Errors are JSON {error, code, detail} (CONTRIBUTING.md §6).

import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import { join, posix, sep } from 'node:path';
import type { JobLookup, JobView } from './jobs.js';
import type { Signer } from '@skyport/service-kit/signing';
import type { Users } from '@skyport/service-kit/users';

export interface ResultsServerOptions {
  /** The collection's results directory as mounted (its `cutoutjobs/` holds the jobs' directories). */
  readonly root: string;
  /** The ImageCollection served: a job on another collection is not found here. */
  readonly collection: string;
  /** Who a token is; a function is asked on every request (the tokens file re-read when it changes). */
  readonly users: Users | (() => Users);
  readonly signer: Signer;
  readonly jobs: JobLookup;
  /** Base of the URLs handed out (e.g. an ingress); `http://<Host header>` when unset. */
  readonly publicUrl?: string;
  /** Called with a line for each unexpected failure (a 500). */
  readonly onError?: (message: string) => void;
}

/** The default and largest page of a listing. */
export const PAGE_DEFAULT = 1000;
export const PAGE_MAX = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** The directory of a job under `cutoutjobs/`: `<name>-<first 8 characters of its uid>` (the operator's outputPath). */
export function jobDir(job: Pick<JobView, 'name' | 'uid'>): string {
  return `${job.name}-${job.uid.slice(0, 8)}`;
}

const TYPES: Record<string, string> = {
  '.fits': 'application/fits',
  '.fz': 'application/fits',
  '.png': 'image/png',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
};

/** The media type of a result file, by its extension. */
export function contentType(name: string): string {
  return TYPES[posix.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The relative path of a `/files/` request, decoded segment by segment, or a 400: empty, `.`/`..` segments, NUL,
 * backslashes or a segment that decodes to contain `/` are refused before the signature is looked at.
 */
export function safeRelativePath(encoded: string): string {
  const bad = (why: string) => new HttpError(400, 'BadPath', `path refused: ${why}`);
  const segs = encoded.split('/');
  const out: string[] = [];
  for (const s of segs) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw bad('not valid percent-encoding');
    }
    if (d === '' || d === '.' || d === '..') throw bad('empty, "." or ".." segment');
    if (/[/\\\0]/.test(d)) throw bad('a segment holds "/", "\\" or NUL');
    out.push(d);
  }
  if (out.length < 2) throw bad('expected <job dir>/<file>');
  return out.join('/');
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** Every regular file under `dir` (relative, `/`-separated, sorted), leaving out temporaries (`.tmp-*`). */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.tmp-')) continue;
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    // Symbolic links are neither listed nor followed.
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function intParam(q: URLSearchParams, name: string, fallback: number, max: number): number {
  const v = q.get(name);
  if (v === null) return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) > max)
    throw new HttpError(400, 'BadParameter', `${name} must be an integer from 0 to ${max}`);
  return Number(v);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 1) + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The results server (not listening yet). */
export function createResultsServer(o: ResultsServerOptions): http.Server {
  const jobsRoot = join(o.root, 'cutoutjobs');

  async function list(req: http.IncomingMessage, name: string, q: URLSearchParams) {
    const users = typeof o.users === 'function' ? o.users() : o.users;
    const user = users.fromHeader(req.headers.authorization);
    if (user === undefined) throw new HttpError(401, 'Unauthenticated', 'a valid bearer token is required');
    let job: JobView | undefined;
    try {
      job = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? await o.jobs.get(name) : undefined;
    } catch (e) {
      o.onError?.(`looking up CutoutJob ${name}: ${e instanceof Error ? e.message : String(e)}`);
      throw new HttpError(503, 'Unavailable', 'the CutoutJob cannot be read now; try again');
    }
    // Another user's job answers as a missing one: its existence is not disclosed.
    if (job === undefined || job.owner !== user || job.imageCollection !== o.collection)
      throw new HttpError(404, 'NotFound', `no CutoutJob ${name} of yours on collection ${o.collection}`);
    const offset = intParam(q, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(q, 'limit', PAGE_DEFAULT, PAGE_MAX);
    const dir = jobDir(job);
    const sums = new Map<string, string>();
    for (const r of job.results) {
      const at = r.path.lastIndexOf(`${dir}/`);
      if (at >= 0 && r.sha256 !== undefined) sums.set(r.path.slice(at + dir.length + 1), r.sha256);
    }
    const all = await walk(join(jobsRoot, dir));
    // The job's own results (manifest, summary) first, then the cutouts.
    all.sort((a, b) => Number(sums.has(b)) - Number(sums.has(a)));
    const base = o.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
    let expires = 0;
    const files = [];
    // Only the page's files are stat'ed: a listing of 40,000 cutouts costs one directory walk.
    for (const name of all.slice(offset, offset + limit)) {
      let bytes: number;
      try {
        bytes = (await lstat(join(jobsRoot, dir, name))).size;
      } catch {
        continue; // deleted since the walk (the job's clean-up)
      }
      const path = `${dir}/${name}`;
      const s = o.signer.sign(path);
      expires = s.expires;
      const sha256 = sums.get(name);
      files.push({
        name,
        bytes,
        ...(sha256 !== undefined && { sha256 }),
        contentType: contentType(name),
        url: `${base}/files/${encodePath(path)}?expires=${s.expires}&sig=${s.sig}`,
      });
    }
    const next = offset + limit < all.length ? offset + limit : undefined;
    return {
      name: job.name,
      owner: job.owner,
      phase: job.phase ?? 'PENDING',
      total: all.length,
      offset,
      ...(files.length > 0 && { expires: new Date(expires * 1000).toISOString() }),
      files,
      ...(next !== undefined && { next: `${base}/cutoutjobs/${job.name}?offset=${next}&limit=${limit}` }),
    };
  }

  async function file(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    encoded: string,
    q: URLSearchParams,
  ) {
    const rel = safeRelativePath(encoded);
    const why = o.signer.check(rel, q.get('expires') ?? undefined, q.get('sig') ?? undefined);
    if (why !== undefined) throw new HttpError(403, 'BadSignature', why);
    const missing = new HttpError(404, 'NotFound', `no file ${rel}`);
    let real: string;
    let top: string;
    try {
      [real, top] = await Promise.all([realpath(join(jobsRoot, rel)), realpath(jobsRoot)]);
    } catch {
      throw missing;
    }
    // A symbolic link out of the jobs' directory is refused even when signed.
    if (!real.startsWith(top + sep))
      throw new HttpError(400, 'BadPath', 'path refused: it leaves the results');
    const st = await stat(real);
    if (!st.isFile()) throw missing;
    res.writeHead(200, {
      'Content-Type': contentType(rel),
      'Content-Length': st.size,
      // PNGs open in the browser; everything else downloads under its own name.
      'Content-Disposition': `${rel.endsWith('.png') ? 'inline' : 'attachment'}; filename="${posix.basename(rel).replace(/["\\]/g, '_')}"`,
      'Cache-Control': 'private, no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(real);
      s.on('error', (e) => {
        res.destroy(e);
        reject(e);
      });
      s.on('end', resolve);
      s.pipe(res);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    // The path as sent: URL normalises "/a/../b" away, and a traversal attempt is refused as such, not re-routed.
    const p = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, 'MethodNotAllowed', `${req.method ?? ''} is not allowed`);
    if (p === '/healthz') return sendJson(res, 200, { ok: true });
    const m = /^\/cutoutjobs\/([^/]+)\/?$/.exec(p);
    if (m?.[1] !== undefined) return sendJson(res, 200, await list(req, m[1], url.searchParams));
    if (p.startsWith('/files/')) return file(req, res, p.slice('/files/'.length), url.searchParams);
    throw new HttpError(404, 'NotFound', `no route ${p}`);
  }

  return http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) {
        if (e.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
        return sendJson(res, e.status, {
          error: e.message,
          code: e.code,
          ...(e.detail && { detail: e.detail }),
        });
      }
      o.onError?.(`${req.method ?? ''} ${req.url ?? ''}: ${e instanceof Error ? e.message : String(e)}`);
      sendJson(res, 500, { error: 'internal error', code: 'Internal' });
    });
  });
}
