// Event recorder logic: dedup into counts within the window, expiry re-create, spam filter, never throws.
import { describe, expect, it } from 'vitest';
import type { KubeObject, ObjectRef } from './client.js';
import { EventRecorder, type EventSink } from './events.js';

class Sink implements EventSink {
  created: KubeObject[] = [];
  patched: { ref: ObjectRef; patch: unknown }[] = [];
  missing = false;
  failing = false;
  create<T extends KubeObject>(obj: T): Promise<T & KubeObject> {
    if (this.failing) return Promise.reject(new Error('forbidden'));
    this.created.push(obj);
    return Promise.resolve(obj);
  }
  mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown): Promise<T | undefined> {
    this.patched.push({ ref, patch });
    return Promise.resolve(this.missing ? undefined : ({} as T));
  }
}

const lab: KubeObject = {
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookLab',
  metadata: { name: 'alice', namespace: 'ns', uid: 'u1', resourceVersion: '7' },
};

describe('EventRecorder', () => {
  it('creates a core/v1 Event pointing at the object, then counts repeats by patching it', async () => {
    let t = Date.parse('2026-11-22T00:00:00Z');
    const sink = new Sink();
    const rec = new EventRecorder(sink, { instance: 'op-0', now: () => new Date(t) });
    await rec.normal(lab, 'Created', 'Created Pod alice-notebook');
    t += 1000;
    await rec.normal(lab, 'Created', 'Created Pod alice-notebook');
    t += 1000;
    await rec.normal(lab, 'Created', 'Created Pod alice-notebook');
    expect(sink.created).toHaveLength(1);
    expect(sink.created[0]).toMatchObject({
      kind: 'Event',
      metadata: { namespace: 'ns' },
      involvedObject: { kind: 'NotebookLab', name: 'alice', uid: 'u1' },
      type: 'Normal',
      reason: 'Created',
      count: 1,
      firstTimestamp: '2026-11-22T00:00:00Z',
      reportingInstance: 'op-0',
    });
    expect(sink.patched.map((p) => p.patch)).toEqual([
      { count: 2, lastTimestamp: '2026-11-22T00:00:01Z' },
      { count: 3, lastTimestamp: '2026-11-22T00:00:02Z' },
    ]);
    expect(sink.patched[0]?.ref.name).toBe(sink.created[0]?.metadata?.name);
  });

  it('creates a new Event after the dedup window or when the old one expired', async () => {
    let t = 0;
    const sink = new Sink();
    const rec = new EventRecorder(sink, { dedupWindowMs: 1000, now: () => new Date(t) });
    await rec.warning(lab, 'BackOff', 'Back-off restarting');
    t = 5000;
    await rec.warning(lab, 'BackOff', 'Back-off restarting');
    expect(sink.created).toHaveLength(2);
    sink.missing = true;
    t = 5100;
    await rec.warning(lab, 'BackOff', 'Back-off restarting');
    expect(sink.created).toHaveLength(3);
  });

  it('drops events beyond the per-object burst and refills over time', async () => {
    let t = 0;
    const sink = new Sink();
    const rec = new EventRecorder(sink, { spamBurst: 3, spamRefillMs: 1000, now: () => new Date(t) });
    for (let i = 0; i < 5; i++) await rec.normal(lab, 'Step', `step ${i}`);
    expect(sink.created.map((e) => e.message)).toEqual(['step 0', 'step 1', 'step 2']);
    t += 1000;
    await rec.normal(lab, 'Step', 'step 5');
    await rec.normal(lab, 'Step', 'step 6');
    expect(sink.created).toHaveLength(4);
  });

  it('never throws', async () => {
    const sink = new Sink();
    sink.failing = true;
    await expect(new EventRecorder(sink).normal(lab, 'X', 'y')).resolves.toBeUndefined();
  });
});
