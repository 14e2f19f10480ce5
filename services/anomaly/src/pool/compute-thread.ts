// worker_threads entry: runs Computer requests off the main event loop so BullMQ lock renewals never starve.

import { parentPort } from 'node:worker_threads';
import { Computer, type ComputeRequest } from './compute.js';

/** A request as posted by ThreadPool. */
export interface ThreadMessage {
  readonly seq: number;
  readonly req: ComputeRequest;
}

/** The reply: a response, or an error carried as plain data (EngineError code/field/row/col kept). */
export type ThreadReply =
  | { readonly seq: number; readonly ok: true; readonly res: unknown }
  | {
      readonly seq: number;
      readonly ok: false;
      readonly error: { name: string; message: string; code?: string; detail?: unknown };
    };

const port = parentPort;
if (port === null) throw new Error('compute-thread must run inside a worker thread');
const computer = new Computer();

port.on('message', (msg: ThreadMessage) => {
  try {
    const res = computer.run(msg.req);
    const transfer: ArrayBuffer[] = [];
    if (res.op === 'score') transfer.push(res.scores.buffer as ArrayBuffer);
    if (res.op === 'missing-model') transfer.push(res.data.buffer as ArrayBuffer);
    port.postMessage({ seq: msg.seq, ok: true, res } satisfies ThreadReply, transfer);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const withCode = e as Error & { code?: unknown; toJSON?: () => unknown };
    port.postMessage({
      seq: msg.seq,
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        ...(typeof withCode.code === 'string' ? { code: withCode.code } : {}),
        ...(typeof withCode.toJSON === 'function' ? { detail: withCode.toJSON() } : {}),
      },
    } satisfies ThreadReply);
  }
});
