import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CopyOutReader } from './copy-out.js';

/** A protocol message: type byte, length (itself included), body. */
function msg(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A socket as far as the reader uses it, counting pause() and resume(). */
class FakeSocket extends EventEmitter {
  paused = 0;
  resumed = 0;
  pause(): this {
    this.paused++;
    return this;
  }
  resume(): this {
    this.resumed++;
    return this;
  }
}

const PAYLOADS = [Buffer.from('PGCOPY header'), Buffer.alloc(0), Buffer.from('a row'), Buffer.alloc(300, 7)];
/** What pg gets back after the COPY: CommandComplete and ReadyForQuery. */
const AFTER = Buffer.concat([msg('C', Buffer.from('COPY 2\0')), msg('Z', Buffer.from('I'))]);

/** Feeds `stream` to a reader in chunks of `size`; what went to the sink, to pg, and the reader. */
function feed(
  stream: Buffer,
  size: number,
  full = false,
): { sunk: Buffer; toPg: Buffer; reader: CopyOutReader; socket: FakeSocket; queries: string[] } {
  const socket = new FakeSocket();
  const pgChunks: Buffer[] = [];
  const pgListener = (c: Buffer): void => void pgChunks.push(Buffer.from(c));
  socket.on('data', pgListener);
  const sunk: Buffer[] = [];
  const reader = new CopyOutReader('COPY (SELECT 1) TO STDOUT (FORMAT binary)', {
    push: (c, from, to) => sunk.push(Buffer.from(c.subarray(from, to))),
    full: () => full,
  });
  const queries: string[] = [];
  reader.submit({ stream: socket as unknown as Socket, query: (t) => queries.push(t) });
  for (let at = 0; at < stream.length; at += size) socket.emit('data', stream.subarray(at, at + size));
  return { sunk: Buffer.concat(sunk), toPg: Buffer.concat(pgChunks), reader, socket, queries };
}

describe('CopyOutReader', () => {
  const copy = Buffer.concat([
    msg('H', Buffer.from([1, 0, 0])),
    ...PAYLOADS.slice(0, 2).map((p) => msg('d', p)),
    msg('N', Buffer.from('Snotice\0\0')),
    ...PAYLOADS.slice(2).map((p) => msg('d', p)),
    msg('c'),
  ]);

  it('sends the COPY and hands CopyData payloads to the sink, the rest after CopyDone to pg, at any chunking', () => {
    for (let size = 1; size <= copy.length + AFTER.length; size++) {
      const r = feed(Buffer.concat([copy, AFTER]), size);
      expect(r.queries).toEqual(['COPY (SELECT 1) TO STDOUT (FORMAT binary)']);
      expect({ size, sunk: r.sunk.toString('latin1') }).toEqual({
        size,
        sunk: Buffer.concat(PAYLOADS).toString('latin1'),
      });
      expect({ size, toPg: r.toPg.equals(AFTER) }).toEqual({ size, toPg: true });
      expect(r.reader.copyDone).toBe(true);
      // pg has the socket back: its listener alone.
      expect(r.socket.listeners('data')).toHaveLength(1);
    }
  });

  it('gives pg an ErrorResponse from its first byte and rejects the wait with the error pg reports', async () => {
    const error = Buffer.concat([msg('E', Buffer.from('SERROR\0C57014\0\0')), msg('Z', Buffer.from('I'))]);
    const stream = Buffer.concat([copy.subarray(0, copy.length - 5), error]);
    for (const size of [1, 7, 64, stream.length]) {
      const r = feed(stream, size);
      expect(r.toPg.equals(error)).toBe(true);
      expect(r.sunk.equals(Buffer.concat(PAYLOADS))).toBe(true);
      expect(r.reader.ended).toBe(false);
      const waiting = r.reader.more();
      r.reader.handleError(new Error('canceling statement due to statement timeout'));
      await expect(waiting).rejects.toThrow('statement timeout');
      await expect(r.reader.more()).rejects.toThrow('statement timeout');
      expect(r.reader.ended).toBe(true);
    }
  });

  it('pauses the socket while the sink is full and no one waits; a wait resumes it', async () => {
    const part = copy.subarray(0, 40);
    const r = feed(part, part.length, true);
    expect(r.socket.paused).toBe(1);
    const resumed = r.socket.resumed;
    const waiting = r.reader.more();
    expect(r.socket.resumed).toBe(resumed + 1);
    // Data arriving ends the wait, and with someone waiting the socket is not paused for it.
    r.socket.emit('data', copy.subarray(40, 60));
    await waiting;
    expect(r.socket.paused).toBe(1);
  });

  it('refuses a connection whose socket has other data listeners than pg', () => {
    const socket = new FakeSocket();
    socket.on('data', () => undefined);
    socket.on('data', () => undefined);
    const reader = new CopyOutReader('COPY', { push: () => undefined, full: () => false });
    expect(() => reader.submit({ stream: socket as unknown as Socket, query: () => undefined })).toThrow(
      'the connection has 2 data listeners, not 1',
    );
  });
});
