// A fixed pool of compute threads with a FIFO queue; the main thread only moves bytes and keeps locks alive.

import { Worker } from 'node:worker_threads';
import type { ComputeRequest, ComputeResponse } from './compute.js';
import type { ThreadMessage, ThreadReply } from './compute-thread.js';

/** An error raised inside a compute thread, rebuilt on the main thread with its engine code. */
export class ComputeError extends Error {
  constructor(
    name: string,
    message: string,
    readonly code: string | undefined,
    readonly detail: unknown,
  ) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  readonly req: ComputeRequest;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (r: ComputeResponse) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: Pending | null;
  seq: number;
}

// Under tsx (sources run as .ts) a worker thread does not inherit the TypeScript loader, so the thread
// is started from a tiny bootstrap that registers tsx first; compiled .js runs directly.
function spawn(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./compute-thread.ts', here).href;
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(new URL('./compute-thread.js', here));
}

/** Runs compute requests on `size` worker threads. */
export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.start());
  }

  private start(): Slot {
    const slot: Slot = { worker: spawn(), busy: null, seq: 0 };
    slot.worker.on('message', (reply: ThreadReply) => {
      const p = slot.busy;
      slot.busy = null;
      if (p !== null) {
        if (reply.ok) p.resolve(reply.res as ComputeResponse);
        else
          p.reject(
            new ComputeError(reply.error.name, reply.error.message, reply.error.code, reply.error.detail),
          );
      }
      this.pump();
    });
    // A thread that dies (out of memory, a bug) fails its task and is replaced so the pool keeps its size.
    slot.worker.on('error', (err) => {
      slot.busy?.reject(err);
      slot.busy = null;
    });
    slot.worker.on('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      slot.busy?.reject(new Error('compute thread exited'));
      slot.busy = null;
      if (!this.closed) {
        this.slots[i] = this.start();
        this.pump();
      }
    });
    return slot;
  }

  /** Queues a request; `transfer` lists buffers handed to the thread (the caller must not use them again). */
  run(req: ComputeRequest, transfer: ArrayBuffer[] = []): Promise<ComputeResponse> {
    if (this.closed) return Promise.reject(new Error('thread pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy !== null) continue;
      const next = this.queue.shift();
      if (next === undefined) return;
      slot.busy = next;
      slot.seq++;
      slot.worker.postMessage({ seq: slot.seq, req: next.req } satisfies ThreadMessage, next.transfer);
    }
  }

  /** Stops all threads; queued and running requests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('thread pool is closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
