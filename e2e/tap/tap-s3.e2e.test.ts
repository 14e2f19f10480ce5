// A Catalog whose results are in an S3-compatible bucket, end to end on the real control plane (issue 13): a TAP
// process on the Kubernetes store, the QueryJob operator, a real PostgreSQL and a real S3 server (versitygw). A job
// posted to /async and RUN gets its runner Job; the real query runner then runs with that Job's own spec and
// environment (the Secret's keys, the role's password as a file) on this machine — the pod is held unschedulable by
// a LimitRange, since kwok would "complete" it with no output — and its termination message is given to the pod as
// the kubelet would. The TAP answers the owner's result request with a 303 to a presigned GET that downloads, with no
// credentials, exactly the bytes whose sha256 the QueryJob's status lists.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../packages/s3/test/support/s3server.js';
import { eventually, repoRoot } from '../cluster/index.js';
import {
  applyObject,
  getQueryJob,
  jobsOf,
  nthPod,
  podExited,
  queryJobSuite,
  READER,
} from '../queryjob/support.js';
import { auth, startKubeTap, tapAccess, type TapHandle } from './support.js';

let s3: S3Server | undefined;
beforeAll(async () => {
  s3 = await startS3('des-results');
}, 600_000);
afterAll(async () => {
  await s3?.stop();
});

const s = queryJobSuite('taps3', {
  results: () => ({
    s3: {
      endpoint: s3?.endpoint ?? '',
      bucket: 'des-results',
      prefix: 'y6',
      forcePathStyle: true,
      credentialsSecretRef: { name: 'des-results-s3' },
    },
  }),
});

const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<uws:${name}>([^<]*)</uws:${name}>`).exec(xml)?.[1];
const getText = async (url: string) => (await fetch(url, { headers: auth('alice') })).text();

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

/** Runs the query runner as the Job's pod would, with the spec and the Secret-backed environment it names. */
async function runLikeThePod(env: EnvVar[], keys: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'skyport-taps3-'));
  try {
    const spec = JSON.parse(env.find((e) => e.name === 'SKYPORT_JOB_SPEC')?.value ?? '{}') as {
      output: { dir: string };
      connection: { passwordFile?: string };
    };
    // The pod's volumes, here: the scratch emptyDir and the password file.
    spec.output.dir = join(dir, 'scratch');
    writeFileSync(join(dir, 'password'), READER.password);
    spec.connection.passwordFile = join(dir, 'password');
    const resolved: Record<string, string> = {};
    for (const e of env) {
      const ref = e.valueFrom?.secretKeyRef;
      if (e.value !== undefined) resolved[e.name] = e.value;
      else if (ref?.name === 'des-results-s3') resolved[e.name] = keys[ref.key] ?? '';
      else if (ref?.name === 'des-reader') resolved[e.name] = READER.user;
    }
    const termination = join(dir, 'termination-log');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'services/query-runner/src/main.ts')],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          PATH: process.env['PATH'] ?? '',
          ...resolved,
          SKYPORT_JOB_SPEC: JSON.stringify(spec),
          SKYPORT_TERMINATION_LOG: termination,
        },
      },
    );
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    expect(code).toBe(0);
    return readFileSync(termination, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('TAP with results in a bucket', () => {
  it('RUN → the real runner publishes to S3 → the TAP 303s the owner to a presigned GET of the same bytes', async () => {
    s.dumpOnFailure();
    const ns = s.ns();
    const server = s3;
    if (server === undefined) throw new Error('no S3 server');
    const keys = {
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    };
    await applyObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'des-results-s3', namespace: ns },
      stringData: keys,
    });
    // Runner pods request more ephemeral storage than any kwok node has: they stay Pending for the test to play.
    await applyObject({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'unschedulable', namespace: ns },
      spec: {
        limits: [
          {
            type: 'Container',
            default: { 'ephemeral-storage': '1Pi' },
            defaultRequest: { 'ephemeral-storage': '1Pi' },
          },
        ],
      },
    });
    const op = await s.start({ args: ['--controllers=queryjob'] });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 180_000,
      intervalMs: 500,
      description: 'the operator is ready',
    });
    // The in-process TAP signs result URLs with the key pair from its environment, as the Deployment's pod would.
    Object.assign(process.env, keys);
    const t: TapHandle = await startKubeTap(ns, s.catalog(), await tapAccess(ns), {
      env: {
        TAP_RESULTS_S3_ENDPOINT: server.endpoint,
        TAP_RESULTS_S3_BUCKET: 'des-results',
        TAP_RESULTS_S3_FORCE_PATH_STYLE: 'true',
        TAP_RESULTS_S3_PREFIX: 'y6',
        TAP_RESULT_URL_SECONDS: '120',
      },
    });
    try {
      const res = await fetch(`${t.base}/async`, {
        method: 'POST',
        headers: auth('alice'),
        redirect: 'manual',
        body: new URLSearchParams({
          LANG: 'PG-SQL',
          QUERY: 'SELECT coadd_object_id, ra, dec FROM des_sample WHERE dec > -30 ORDER BY coadd_object_id',
          FORMAT: 'csv',
          PHASE: 'RUN',
        }),
      });
      expect(res.status).toBe(303);
      const url = res.headers.get('location') ?? '';
      const id = url.split('/').pop() ?? '';
      const qj = await eventually(
        async () => {
          const q = await getQueryJob(ns, id);
          if (q.status?.jobName === undefined) throw new Error('no runner Job yet');
          return q;
        },
        { timeoutMs: 60_000, description: 'the runner Job created' },
      );
      const [job] = await jobsOf(ns, qj.metadata.uid);
      const env = (job?.spec.template.spec.containers[0]?.env ?? []) as EnvVar[];
      const pod = await nthPod(ns, qj.metadata.uid, 1);
      const message = await runLikeThePod(env, keys);
      await podExited(ns, pod.metadata.name, 0, message);

      let finished = '';
      for (let i = 0; i < 5 && !['COMPLETED', 'ERROR'].includes(tag(finished, 'phase') ?? ''); i++)
        finished = await getText(`${url}?WAIT=30`);
      expect(tag(finished, 'phase')).toBe('COMPLETED');
      const status = (await getQueryJob(ns, id)).status;
      const csv = status?.results?.find((r) => r.name === 'result.csv');
      expect(csv?.bytes).toBeGreaterThan(1000);

      const redirect = await fetch(`${url}/results/result`, { headers: auth('alice'), redirect: 'manual' });
      expect(redirect.status).toBe(303);
      const presigned = redirect.headers.get('location') ?? '';
      expect(
        presigned.startsWith(`${server.endpoint}/des-results/y6/${ns}/${id}/${qj.metadata.uid}/result.csv?`),
      ).toBe(true);
      expect(new URL(presigned).searchParams.get('X-Amz-Expires')).toBe('120');
      const body = Buffer.from(await (await fetch(presigned)).arrayBuffer());
      expect(body.length).toBe(csv?.bytes);
      expect(createHash('sha256').update(body).digest('hex')).toBe(csv?.sha256);
      expect(body.subarray(0, 22).toString()).toBe('coadd_object_id,ra,dec');
      // bob cannot get a link to alice's result.
      expect(
        (await fetch(`${url}/results/result`, { headers: auth('bob'), redirect: 'manual' })).status,
      ).toBe(404);
    } finally {
      await t.close();
    }
  });
});
