import { describe, expect, it } from 'vitest';
import type { KubeObject, ObjectRef } from '../../kube/index.js';
import { checkClaims, prefetchClaims, type ClaimClient } from './claims.js';
import { labFixture } from './fixtures.test-util.js';

/** A client that records each read when it is sent and answers it when `answer()` is called (404 unless `found`). */
function pendingClient(found: Record<string, KubeObject> = {}): ClaimClient & {
  sent: string[];
  answer: () => void;
} {
  const waiting: (() => void)[] = [];
  const sent: string[] = [];
  return {
    sent,
    answer: () => waiting.splice(0).forEach((f) => f()),
    get: <T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> => {
      const key = `${ref.kind}/${ref.name}`;
      sent.push(key);
      return new Promise((resolve) => waiting.push(() => resolve(found[key] as T | undefined)));
    },
    delete: () => Promise.resolve(false),
  };
}

const log = { info: () => undefined } as never;

describe('prefetchClaims', () => {
  it('sends the claim check’s reads at once, skips cached names, and answers the check from them and the cache', async () => {
    const lab = labFixture();
    const cachedService = { metadata: { name: 'alice-default-lab' } };
    const cache = {
      get: <T>(kind: string, ref: { name: string }): T | undefined =>
        (kind === 'Service' && ref.name === 'alice-default-lab' ? cachedService : undefined) as T | undefined,
      log,
    };
    const kube = pendingClient();
    const wants = { networkPolicy: true, pod: false };
    const reads = prefetchClaims(kube, cache, lab, wants);
    // Sent before anything awaits them (the finalizer write goes out meanwhile); the cached Service is not read.
    expect(kube.sent).toEqual([
      'PersistentVolumeClaim/alice-default-home',
      'Secret/alice-default-token',
      'NetworkPolicy/alice-default-lab',
    ]);
    const check = checkClaims(reads, cache, lab, wants, () => false);
    kube.answer();
    // The Service came from the cache (someone else's there: no labels of ours), the rest from the reads.
    expect((await check).conflict?.message).toContain('Service alice-default-lab');
    // The check read nothing more: each name was read once.
    expect(kube.sent).toHaveLength(3);
  });

  it('reads live what it did not prefetch, and reports a foreign object it prefetched', async () => {
    const lab = labFixture();
    const cache = { get: () => undefined, log };
    const foreign = { metadata: { name: 'alice-default-token', labels: {} } };
    const kube = pendingClient({ 'Secret/alice-default-token': foreign });
    const reads = prefetchClaims(kube, cache, lab, { networkPolicy: false, pod: false });
    const check = checkClaims(reads, cache, lab, { networkPolicy: false, pod: true }, () => false);
    await Promise.resolve();
    kube.answer();
    // The Pod was not prefetched (the lab did not want it then): read when the check needs it.
    await new Promise((r) => setTimeout(r, 0));
    kube.answer();
    const out = await check;
    expect(kube.sent).toEqual([
      'PersistentVolumeClaim/alice-default-home',
      'Secret/alice-default-token',
      'Service/alice-default-lab',
      'Pod/alice-default-lab',
    ]);
    expect(out.conflict?.reason).toBe('NameConflict');
    expect(out.conflict?.message).toContain('alice-default-token');
  });

  it('turns a failed read nobody awaits into no unhandled rejection, and one the check awaits into its error', async () => {
    const lab = labFixture();
    const cache = { get: () => undefined, log };
    const failing: ClaimClient = {
      get: () => Promise.reject(new Error('apiserver down')),
      delete: () => Promise.resolve(false),
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      prefetchClaims(failing, cache, lab, { networkPolicy: true, pod: true });
      const reads = prefetchClaims(failing, cache, lab, { networkPolicy: false, pod: false });
      await expect(
        checkClaims(reads, cache, lab, { networkPolicy: false, pod: false }, () => false),
      ).rejects.toThrow('apiserver down');
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
