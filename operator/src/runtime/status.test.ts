// The status writer: writes only changes, remembers its writes for the next reconcile, holds deferrable ones.
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../errors.js';
import type { KubeObject } from '../kube/client.js';
import { StatusWriter, degradedStatus } from './status.js';

interface S {
  phase: string;
  step?: number;
}

function writer(now: { t: number }) {
  const writes: S[] = [];
  const kube = {
    applyStatus: <T extends KubeObject>(obj: KubeObject, status: unknown): Promise<T> => {
      writes.push(status as S);
      return Promise.resolve(obj as T);
    },
  };
  const w = new StatusWriter<S>({
    kube,
    same: (a, b) => a?.phase === b.phase && a.step === b.step,
    coalesce: { delayMs: 5000, deferrable: (a, b) => a.phase === b.phase },
    clock: () => now.t,
  });
  return { w, writes };
}

const obj = (status?: S): KubeObject & { status?: S } => ({
  apiVersion: 'x/v1',
  kind: 'X',
  metadata: { name: 'x', uid: 'u' },
  ...(status === undefined ? {} : { status }),
});

describe('StatusWriter', () => {
  it('writes a change once and serves it back while the cache still holds the old status', async () => {
    const { w, writes } = writer({ t: 0 });
    expect(await w.write(obj(), { phase: 'Pending' })).toEqual({ wrote: true });
    expect(await w.write(obj({ phase: 'Pending' }), { phase: 'Pending' })).toEqual({ wrote: false });
    expect(writes).toEqual([{ phase: 'Pending' }]);
    expect(w.fresh(obj()).status).toEqual({ phase: 'Pending' });
    w.forget('u');
    expect(w.fresh(obj()).status).toBeUndefined();
  });

  it('holds a deferrable change for the delay, then writes the latest; a non-deferrable one goes at once', async () => {
    const now = { t: 0 };
    const { w, writes } = writer(now);
    const prev = obj({ phase: 'Starting', step: 1 });
    expect(await w.write(prev, { phase: 'Starting', step: 2 })).toEqual({ wrote: false, retryInMs: 5000 });
    expect(w.held('u')).toEqual({ phase: 'Starting', step: 2 });
    now.t = 3000;
    expect(await w.write(prev, { phase: 'Starting', step: 3 })).toEqual({ wrote: false, retryInMs: 2000 });
    now.t = 5000;
    expect(await w.write(prev, { phase: 'Starting', step: 4 })).toEqual({ wrote: true });
    expect(w.held('u')).toBeUndefined();
    expect(await w.write(obj({ phase: 'Starting', step: 4 }), { phase: 'Running', step: 4 })).toEqual({
      wrote: true,
    });
    expect(writes).toEqual([
      { phase: 'Starting', step: 4 },
      { phase: 'Running', step: 4 },
    ]);
  });
});

describe('degradedStatus', () => {
  it('sets Degraded=True and Ready=False with the code, keeping other fields and unchanged transition times', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const err = new TerminalError('WidgetRefused', 'no');
    const s = degradedStatus({ phase: 'Ready' }, err, 3, now);
    expect(s).toEqual({
      phase: 'Ready',
      observedGeneration: 3,
      conditions: [
        expect.objectContaining({ type: 'Degraded', status: 'True', reason: 'WidgetRefused', message: 'no' }),
        expect.objectContaining({
          type: 'Ready',
          status: 'False',
          reason: 'WidgetRefused',
          observedGeneration: 3,
        }),
      ],
    });
    const later = degradedStatus(s, err, 3, new Date('2026-01-02T00:00:00Z'));
    expect(later.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});
