// The results server's side of e2e/real/cutoutjob.real.test.ts: a completed CutoutJob's `status.resultsUrl` asked of
// the collection's real server pod through its Service's ClusterIP (kube-proxy's rules are in this host's netns; the
// host has no cluster DNS search path) as the owner, another user and nobody.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseManifest } from '../../services/cutout-runner/src/merge.js';
import { kubectl } from '../cluster/index.js';

/** The results server's users (the TAP Secret's format: `user token` lines, tokens of 16+ characters). */
export const TOKENS = { alice: 'alice-real-token-0123456789', bob: 'bob-real-token-9876543210' };

/** The Secret spec.results.serve.secretName names: alice's and bob's tokens and a signing key. */
export function resultsServerSecret(namespace: string, name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: {
      tokens: `alice ${TOKENS.alice}\nbob ${TOKENS.bob}\n`,
      'signing-key': 'real-tier-signing-key-of-at-least-32-bytes',
    },
  };
}

/** One file of a listing (services/cutout-runner/src/serve/server.ts). */
interface Listed {
  name: string;
  bytes: number;
  sha256?: string;
  url: string;
}

export interface ServedJob {
  kubeconfig: string;
  namespace: string;
  /** The results server's Service (`<collection>-results`). */
  service: string;
  /** The CutoutJob as read (its status: resultsUrl, results). */
  job: { metadata: { name: string }; status?: Record<string, unknown> };
  /** The job's directory on the host (the volume the server mounts). */
  dir: string;
  /** Every file under `dir`, relative. */
  files: readonly string[];
  owner: { user: string; token: string };
  other: { token: string };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Lists the job as its owner and downloads every file by its signed URL without a token: the listing is the files
 * on the volume, each download their bytes, manifest and summary carry the sha256 the job's status recorded, and
 * the manifest names only listed files. A tampered signature is 403, the other user 404 (as a missing job), no
 * token 401. Resolves with the number of files downloaded.
 */
export async function expectServedToOwnerOnly(o: ServedJob): Promise<number> {
  const resultsUrl = new URL(String(o.job.status?.['resultsUrl']));
  expect(resultsUrl.href).toBe(
    `http://${o.service}.${o.namespace}.svc:8080/cutoutjobs/${o.job.metadata.name}`,
  );
  const ip = await kubectl(
    ['get', 'service', o.service, '-n', o.namespace, '-o', 'jsonpath={.spec.clusterIP}'],
    {
      kubeconfig: o.kubeconfig,
    },
  );
  const listing = `http://${ip}:8080${resultsUrl.pathname}`;
  const as = (token?: string) =>
    fetch(listing, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });

  const mine = await as(o.owner.token);
  expect(mine.status).toBe(200);
  const body = (await mine.json()) as { owner: string; phase: string; total: number; files: Listed[] };
  expect(body).toMatchObject({ owner: o.owner.user, phase: 'COMPLETED', total: o.files.length });
  expect(body.files.map((f) => f.name).sort()).toEqual([...o.files].sort());
  const recorded = new Map(
    ((o.job.status?.['results'] ?? []) as { path: string; sha256: string }[]).map((r) => [
      r.path.slice(r.path.lastIndexOf('/') + 1),
      r.sha256,
    ]),
  );
  expect([...recorded.keys()].sort()).toEqual(['manifest.csv', 'summary.json']);
  let manifest = '';
  for (const f of body.files) {
    const res = await fetch(f.url);
    expect([f.name, res.status]).toEqual([f.name, 200]);
    const bytes = Buffer.from(await res.arrayBuffer());
    const onDisk = join(o.dir, f.name);
    expect(sha256(bytes), f.name).toBe(sha256(readFileSync(onDisk)));
    expect(f.bytes, f.name).toBe(statSync(onDisk).size);
    expect(f.sha256, f.name).toBe(recorded.get(f.name));
    if (f.sha256 !== undefined) expect(sha256(bytes), f.name).toBe(f.sha256);
    if (f.name === 'manifest.csv') manifest = bytes.toString('utf8');
  }
  const listed = new Set(body.files.map((f) => f.name));
  const named = parseManifest(manifest).flatMap((m) => m.files);
  expect(named.length).toBeGreaterThan(0);
  expect(named.filter((n) => !listed.has(n))).toEqual([]);

  const tampered = new URL(body.files[0]?.url ?? '');
  const sig = tampered.searchParams.get('sig') ?? '';
  tampered.searchParams.set('sig', `${sig.startsWith('a') ? 'b' : 'a'}${sig.slice(1)}`);
  expect((await fetch(tampered)).status).toBe(403);
  const others = await as(o.other.token);
  expect(others.status).toBe(404);
  expect(((await others.json()) as { code: string }).code).toBe('NotFound');
  expect((await as()).status).toBe(401);
  return body.files.length;
}
