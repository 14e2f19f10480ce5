#!/usr/bin/env node
// The query runner's command line: `skyport-query-runner --spec job.json` (or the spec as JSON in
// SKYPORT_JOB_SPEC). Prints JSON lines on stdout (started, progress, completed or error), writes the result
// files and `<stem>.provenance.json`, or `<stem>.error.json` with {type, code, message}, and exits 0, 1
// (fatal), 2 (invalid spec) or 75 (transient: retry). SIGTERM and SIGINT cancel the query and stop.
// With output.s3 the finished files are then published to the bucket (publish.ts); `--delete` removes the
// job's objects (output.s3.prefix) instead of running the query: the destruction Job.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classify, exitCode, type RunError } from './errors.js';
import type { ResultFile } from './output.js';
import { inClusterAccess } from '@skyport/service-kit/kube-access';
import { ProgressReporter, statusPatcher } from './progress.js';
import { credentialsFromEnv, publish, s3Client } from './publish.js';
import { errorName, manifestName, runJob, type RunEvent } from './run.js';
import { terminationMessage } from './termination.js';
import { parseSpec, type JobSpec } from './spec.js';

function line(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function writeTermination(text: string): void {
  const path = process.env['SKYPORT_TERMINATION_LOG'];
  if (path === undefined || path === '') return;
  try {
    writeFileSync(path, text);
  } catch (err) {
    process.stderr.write(`Could not write the termination message: ${String(err)}\n`);
  }
}

/** The spec's text from `--spec <file>` or SKYPORT_JOB_SPEC. */
function specText(argv: readonly string[]): string {
  const i = argv.indexOf('--spec');
  if (i >= 0) {
    const file = argv[i + 1];
    if (file === undefined) throw new Error('--spec needs a file');
    return readFileSync(file, 'utf8');
  }
  const env = process.env['SKYPORT_JOB_SPEC'];
  if (env !== undefined) return env;
  throw new Error('no job spec: pass --spec <file> or set SKYPORT_JOB_SPEC');
}

function fail(e: RunError, spec: JobSpec | undefined): number {
  line({ event: 'error', ...e });
  writeTermination(terminationMessage({ error: e }));
  if (spec !== undefined) {
    try {
      writeFileSync(join(spec.output.dir, errorName(spec.output.stem)), JSON.stringify(e, null, 2) + '\n');
    } catch (err) {
      process.stderr.write(`Could not write the error file: ${String(err)}\n`);
    }
  }
  return exitCode(e);
}

/** A written file's size and sha256 (the provenance manifest, listed with the results). */
async function describeFile(spec: JobSpec, name: string): Promise<ResultFile> {
  const bytes = await readFile(join(spec.output.dir, name));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { name, mediaType: 'application/json', rows: 0, bytes: bytes.length, sha256 };
}

/** Destruction of an S3 result: every object and unfinished upload under the job's prefix. */
async function deleteResults(spec: JobSpec): Promise<number> {
  const s3 = spec.output.s3;
  try {
    if (s3 === undefined) throw new Error('--delete needs output.s3 (a results claim is cleaned by rm)');
    const n = await s3Client(s3, credentialsFromEnv()).deletePrefix(s3.prefix);
    line({ event: 'deleted', bucket: s3.bucket, prefix: s3.prefix, objects: n });
    return 0;
  } catch (err) {
    const e = classify(err);
    line({ event: 'error', ...e });
    return exitCode(e);
  }
}

/** The status.progress reporter when the spec names a QueryJob and the run is in a pod with a token. */
function progressReporter(spec: JobSpec): ProgressReporter | undefined {
  const target = spec.progress;
  if (target === undefined) return undefined;
  const access = inClusterAccess();
  if (access === undefined) {
    process.stderr.write(
      'progress: no in-cluster ServiceAccount token; the query goes on without live progress\n',
    );
    return undefined;
  }
  return new ProgressReporter(statusPatcher(access, target), {
    intervalMs: (target.intervalSeconds ?? 5) * 1000,
  });
}

async function main(argv: readonly string[]): Promise<number> {
  let spec: JobSpec;
  try {
    spec = parseSpec(JSON.parse(specText(argv)) as unknown);
  } catch (err) {
    const e = classify(err);
    return fail(e.code === 'InternalError' ? { ...e, code: 'InvalidSpec' } : e, undefined);
  }
  if (argv.includes('--delete')) return deleteResults(spec);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const reporter = progressReporter(spec);
  const emit = (e: RunEvent): void => {
    line(e);
    if (e.event === 'progress') reporter?.report(e);
  };
  try {
    const s3 = spec.output.s3;
    // Checked before the query runs: a missing key must not cost a whole query.
    const client = s3 === undefined ? undefined : s3Client(s3, credentialsFromEnv());
    const manifest = await runJob(spec, { emit, signal: stop.signal });
    await reporter?.flush({ rows: manifest.rows, bytes: manifest.bytes });
    const manifestFile = await describeFile(spec, manifestName(spec.output.stem));
    if (s3 !== undefined && client !== undefined) {
      await publish(client, s3.prefix, spec.output.dir, manifest.files, manifestFile);
      line({ event: 'published', bucket: s3.bucket, prefix: s3.prefix, objects: manifest.files.length + 1 });
    }
    writeTermination(terminationMessage({ manifest, manifestFile }));
    return 0;
  } catch (err) {
    return fail(classify(err), spec);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
