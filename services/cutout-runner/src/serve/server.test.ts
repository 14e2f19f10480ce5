// The results server in-process on loopback over a temp directory, with an in-memory JobLookup and a fake clock.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobLookup, JobView } from './jobs.js';
import { createResultsServer, jobDir, PAGE_MAX, safeRelativePath } from './server.js';
import { Signer } from '@skyport/service-kit/signing';
import { Users } from '@skyport/service-kit/users';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('results server', () => {
  let root: string;
  let server: http.Server;
  let base: string;
  let now = 1_700_000_000_000;
  const lookups: string[] = [];
  const fits = Buffer.alloc(5760 * 2, 7);
  fits.write('SIMPLE  =                    T', 0, 'ascii');
  const manifest = 'ROW,ID,RA,DEC,STATUS,TILENAME,FILES,COVERAGE,REASON\n1,a,1,2,ok,T00,x.fits,1,\n';
  const job: JobView = {
    name: 'cuts',
    uid: '0123abcd-ffff-4444-8888-000000000000',
    owner: 'alice',
    imageCollection: 'des',
    phase: 'COMPLETED',
    results: [
      {
        id: 'manifest',
        path: `cutoutjobs/cuts-0123abcd/manifest.csv`,
        size: manifest.length,
        sha256: sha(manifest),
      },
    ],
  };
  const elsewhere: JobView = { ...job, name: 'other', uid: 'ffffffff-0000', imageCollection: 'sdss' };
  const jobs: JobLookup = {
    get: (name) => {
      lookups.push(name);
      return Promise.resolve([job, elsewhere].find((j) => j.name === name));
    },
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cutout-serve-'));
    const dir = join(root, 'cutoutjobs', jobDir(job));
    mkdirSync(join(dir, 'shard-0', 'T00'), { recursive: true });
    writeFileSync(join(dir, 'manifest.csv'), manifest);
    writeFileSync(join(dir, 'shard-0', 'T00', 'DESJ000000.00-300000.0_g.fits'), fits);
    writeFileSync(join(dir, 'shard-0', 'T00', 'DESJ000000.00-300000.0_gri_lupton.png'), 'png');
    writeFileSync(join(dir, 'shard-0', 'T00', '.tmp-123-x.fits'), 'partial');
    writeFileSync(join(root, 'secret.txt'), 'not yours');
    symlinkSync(join(root, 'secret.txt'), join(dir, 'link.txt'));
    const signer = new Signer(Buffer.from('k'.repeat(32)), 600, () => now);
    server = createResultsServer({
      root,
      collection: 'des',
      users: Users.parse(`alice ${ALICE}\nbob ${BOB}\n`),
      signer,
      jobs,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });

  interface Listing {
    name: string;
    total: number;
    next?: string;
    files: { name: string; bytes: number; sha256?: string; url: string; contentType: string }[];
  }

  it("lists the owner's files with sizes, the status' sha256 and signed URLs; temporaries and links left out", async () => {
    const res = await get('/cutoutjobs/cuts', ALICE);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Listing;
    expect(body.files.map((f) => f.name)).toEqual([
      'manifest.csv',
      'shard-0/T00/DESJ000000.00-300000.0_g.fits',
      'shard-0/T00/DESJ000000.00-300000.0_gri_lupton.png',
    ]);
    expect(body.total).toBe(3);
    expect(body.files[0]).toMatchObject({ bytes: manifest.length, sha256: sha(manifest) });
    expect(body.files[1]).toMatchObject({ bytes: fits.length, contentType: 'application/fits' });
    expect(body.files[1]?.sha256).toBeUndefined();
    expect(body.files[1]?.url).toMatch(
      new RegExp(
        `^${base}/files/cuts-0123abcd/shard-0/T00/DESJ000000\\.00-300000\\.0_g\\.fits\\?expires=\\d+&sig=[0-9a-f]{64}$`,
      ),
    );
  });

  it('streams a file by its signed URL without a token: bytes, length and type', async () => {
    const body = (await (await get('/cutoutjobs/cuts', ALICE)).json()) as Listing;
    const res = await fetch(body.files[1]?.url ?? '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fits');
    expect(res.headers.get('content-length')).toBe(String(fits.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(fits)).toBe(true);
    const m = await fetch(body.files[0]?.url ?? '');
    expect(m.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(sha(await m.text())).toBe(body.files[0]?.sha256);
  });

  it('answers another user 404 like a missing job, and a job of another collection 404', async () => {
    const bob = await get('/cutoutjobs/cuts', BOB);
    expect(bob.status).toBe(404);
    const missing = await get('/cutoutjobs/nosuch', BOB);
    expect(missing.status).toBe(404);
    expect(((await bob.json()) as { code: string }).code).toBe(
      ((await missing.json()) as { code: string }).code,
    );
    expect((await get('/cutoutjobs/other', ALICE)).status).toBe(404);
  });

  it('refuses a request without a token, or with an unknown one, with 401 and no lookup', async () => {
    lookups.length = 0;
    const none = await get('/cutoutjobs/cuts');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await get('/cutoutjobs/cuts', 'not-a-known-token-at-all')).status).toBe(401);
    expect(lookups).toEqual([]);
  });

  it('refuses a tampered signature, another path, a moved expiry and an expired URL with 403', async () => {
    const body = (await (await get('/cutoutjobs/cuts', ALICE)).json()) as Listing;
    const url = new URL(body.files[1]?.url ?? '');
    const sig = url.searchParams.get('sig') ?? '';
    const expires = Number(url.searchParams.get('expires'));
    const at = (path: string, e: number, s: string) => fetch(`${base}${path}?expires=${e}&sig=${s}`);
    const flipped = (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1);
    expect((await at(url.pathname, expires, flipped)).status).toBe(403);
    expect((await at(url.pathname, expires + 60, sig)).status).toBe(403);
    const png = new URL(body.files[2]?.url ?? '').pathname;
    expect((await at(png, expires, sig)).status).toBe(403);
    expect((await fetch(`${base}${url.pathname}`)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
    now += 600_000;
    const late = await fetch(url);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { error: string }).error).toBe('the URL has expired');
    now -= 600_000;
  });

  it('refuses path traversal before the signature, even a correctly signed one, and signed links out', async () => {
    const signer = new Signer(Buffer.from('k'.repeat(32)), 600, () => now);
    for (const raw of [
      'cuts-0123abcd/../../secret.txt',
      'cuts-0123abcd/%2e%2e/%2e%2e/secret.txt',
      'cuts-0123abcd/..%2f..%2fsecret.txt',
    ]) {
      const s = signer.sign(decodeURIComponent(raw));
      const res = await fetch(`${base}/files/${raw}?expires=${s.expires}&sig=${s.sig}`);
      // fetch normalises a literal "../": it then asks for a path outside /files/, which is no route.
      expect([400, 404]).toContain(res.status);
      expect(await res.text()).not.toContain('not yours');
    }
    // node:http sends the path as written (no normalisation): the server itself must refuse it.
    for (const raw of ['cuts-0123abcd/../../secret.txt', 'cuts-0123abcd/%2e%2e/%2e%2e/secret.txt']) {
      const s = signer.sign('../secret.txt');
      const status = await new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(base);
        const path = `/files/${raw}?expires=${s.expires}&sig=${s.sig}`;
        const req = request({ hostname, port, path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(400);
    }
    const link = signer.sign('cuts-0123abcd/link.txt');
    const res = await fetch(`${base}/files/cuts-0123abcd/link.txt?expires=${link.expires}&sig=${link.sig}`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('not yours');
    expect(() => safeRelativePath('cuts/%2e%2e/x')).toThrow(/"\.\."/);
    expect(() => safeRelativePath('cuts/a%2Fb')).toThrow(/"\/"/);
    expect(() => safeRelativePath('cuts/a%00b')).toThrow(/NUL/);
    expect(safeRelativePath('cuts/T00/DESJ%2B01.fits')).toBe('cuts/T00/DESJ+01.fits');
  });

  it('pages a listing (limit, offset, next) and refuses a limit above the maximum', async () => {
    const p1 = (await (await get('/cutoutjobs/cuts?limit=2', ALICE)).json()) as Listing;
    expect(p1.files.map((f) => f.name)).toHaveLength(2);
    expect(p1.next).toBe(`${base}/cutoutjobs/cuts?offset=2&limit=2`);
    const p2 = (await (await get('/cutoutjobs/cuts?offset=2&limit=2', ALICE)).json()) as Listing;
    expect(p2.files.map((f) => f.name)).toEqual(['shard-0/T00/DESJ000000.00-300000.0_gri_lupton.png']);
    expect(p2.next).toBeUndefined();
    expect((await get(`/cutoutjobs/cuts?limit=${PAGE_MAX + 1}`, ALICE)).status).toBe(400);
  });

  it('answers 503 when the CutoutJob cannot be read (the apiserver down), naming no job', async () => {
    const errors: string[] = [];
    const down = createResultsServer({
      root,
      collection: 'des',
      users: () => Users.parse(`alice ${ALICE}\n`),
      signer: new Signer(Buffer.from('k'.repeat(32)), 600, () => now),
      jobs: { get: () => Promise.reject(new Error('connect ECONNREFUSED')) },
      onError: (m) => errors.push(m),
    });
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    try {
      const a = down.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      const res = await fetch(`http://127.0.0.1:${port}/cutoutjobs/cuts`, {
        headers: { Authorization: `Bearer ${ALICE}` },
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { code: string }).code).toBe('Unavailable');
      expect(errors).toEqual(['looking up CutoutJob cuts: connect ECONNREFUSED']);
    } finally {
      await new Promise<void>((r) => down.close(() => r()));
    }
  });

  it('answers 404 for a signed URL of a file that is gone', async () => {
    const signer = new Signer(Buffer.from('k'.repeat(32)), 600, () => now);
    const s = signer.sign('cuts-0123abcd/gone.fits');
    expect(
      (await fetch(`${base}/files/cuts-0123abcd/gone.fits?expires=${s.expires}&sig=${s.sig}`)).status,
    ).toBe(404);
  });
});
