// `COPY … TO STDOUT` read straight off the connection's socket: each CopyData message's payload is handed
// to a sink as a range of the socket's chunk (the binary decoder copies it into its reused buffers), so a
// result of any size makes no object per row or per message. pg-copy-streams, which this replaces on the
// binary path, made a Buffer per CopyData message (PostgreSQL sends one per row) and concatenated them per
// socket read: for rows of 51 KB text, 100 KB of garbage per row before the decoder saw a byte.
//
// How: a pg "Submittable" that, while the COPY streams, takes the socket's 'data' listener from pg (as
// pg-copy-streams does) and parses the protocol's framing itself. Any message other than CopyData and the
// ones PostgreSQL may interleave (CopyOutResponse, NoticeResponse, ParameterStatus, NotificationResponse)
// ends the COPY: at CopyDone, and before an ErrorResponse or anything unexpected, the rest of the chunk and
// the socket go back to pg, whose parser reports CommandComplete / the error to this object as for any query.
// The socket is paused while the sink holds enough (`full`) and no one waits for more: memory holds what the
// consumer has not taken yet, and the server waits (TCP backpressure) while the writer works.

import type { Socket } from 'node:net';

/** The pg connection's members this reader uses. */
interface CopyConnection {
  readonly stream: Socket;
  query(text: string): void;
}

/** Message type bytes (PostgreSQL protocol, "Message Formats"). */
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
/** Messages that may come between CopyOutResponse and CopyDone and carry nothing for the reader. */
const SKIPPED = new Set([0x48 /* H CopyOutResponse */, 0x4e /* N */, 0x53 /* S */, 0x41 /* A */]);

type DataListener = (chunk: Buffer) => void;

/** Where CopyData payloads go, and whether it holds enough for the socket to pause. */
export interface CopySink {
  push(chunk: Buffer, from: number, to: number): void;
  full(): boolean;
}

/**
 * One `COPY … TO STDOUT` on a pg.Client: `client.query(reader as unknown as pg.QueryConfig)`, then
 * `more()` until `copyDone` (data arrives into the sink meanwhile). An error from the server (or the
 * connection) rejects the pending and every later `more()`.
 */
export class CopyOutReader {
  /** The server sent CopyDone: every row is in the sink. */
  copyDone = false;
  /** Payloads are dropped instead of pushed (a cancelled COPY being read to its end). */
  discard = false;
  private error: Error | undefined;
  private stream: Socket | undefined;
  private pgListener: DataListener | undefined;
  private waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Framing state: the 5-byte header (type, length) being read, then `left` bytes of the body. */
  private readonly header = Buffer.alloc(5);
  private headerLength = 0;
  private type = 0;
  private left = -1;
  private readonly onData: DataListener = (chunk) => this.data(chunk);

  constructor(
    private readonly text: string,
    private readonly sink: CopySink,
  ) {}

  /** The COPY ended, by CopyDone or an error: nothing more will arrive. */
  get ended(): boolean {
    return this.copyDone || this.error !== undefined;
  }

  /** Waits for more data (or CopyDone); rejects with the server's error. */
  more(): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.copyDone) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      if (this.pgListener !== undefined) this.stream?.resume();
    });
  }

  // pg's Submittable interface.

  submit(connection: CopyConnection): void {
    const stream = connection.stream;
    const listeners = stream.listeners('data') as DataListener[];
    if (listeners.length !== 1)
      throw new Error(`COPY reader: the connection has ${listeners.length} data listeners, not 1`);
    this.stream = stream;
    this.pgListener = listeners[0];
    stream.removeListener('data', this.pgListener as DataListener);
    stream.on('data', this.onData);
    connection.query(this.text);
  }

  handleError(err: Error): void {
    this.error = err;
    this.release();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    // Only after CopyDone or an error (pg gets the socket back first): a wait still pending ends here.
    this.wake();
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  /** Parses one socket chunk: CopyData payloads to the sink, the rest of the chunk to pg once the COPY ends. */
  private data(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.left < 0) {
        if (this.headerLength === 0) {
          const type = chunk[at] as number;
          if (type !== COPY_DATA && type !== COPY_DONE && !SKIPPED.has(type)) {
            // ErrorResponse (or anything unexpected): pg parses it and tells this object.
            this.handBack(chunk, at);
            return;
          }
        }
        const n = Math.min(5 - this.headerLength, chunk.length - at);
        chunk.copy(this.header, this.headerLength, at, at + n);
        this.headerLength += n;
        at += n;
        if (this.headerLength < 5) break;
        this.headerLength = 0;
        this.type = this.header[0] as number;
        this.left = this.header.readUInt32BE(1) - 4;
      }
      const n = Math.min(this.left, chunk.length - at);
      if (this.type === COPY_DATA && n > 0 && !this.discard) this.sink.push(chunk, at, at + n);
      at += n;
      this.left -= n;
      if (this.left === 0) {
        this.left = -1;
        if (this.type === COPY_DONE) {
          this.copyDone = true;
          this.handBack(chunk, at);
          this.wake();
          return;
        }
      }
    }
    if (this.waiter === undefined && !this.discard && this.sink.full()) this.stream?.pause();
    this.wake();
  }

  /** Gives the socket back to pg, with the rest of `chunk` from `at`. */
  private handBack(chunk: Buffer, at: number): void {
    const pg = this.release();
    if (pg !== undefined && at < chunk.length) pg(chunk.subarray(at));
  }

  /** Restores pg's data listener (once); returns it. */
  private release(): DataListener | undefined {
    const stream = this.stream;
    const pg = this.pgListener;
    if (stream === undefined || pg === undefined) return undefined;
    this.pgListener = undefined;
    stream.removeListener('data', this.onData);
    stream.on('data', pg);
    stream.resume();
    return pg;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }
}
