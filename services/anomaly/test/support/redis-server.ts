// Starts a real redis-server on a free loopback port with AOF on, in a temp dir; can SIGKILL and restart it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Finds a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** How the server persists; tests use the defaults (AOF on, fsync always). */
export interface RedisServerOptions {
  readonly appendonly?: boolean;
  readonly appendfsync?: 'always' | 'everysec' | 'no';
}

/** A redis-server child process owned by a test. */
export class RedisServer {
  private proc: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly opts: RedisServerOptions,
  ) {}

  /** redis://127.0.0.1:<port> */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a fresh server (requires `redis-server` on PATH: apt-get install -y redis-server). */
  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const s = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'skyport-redis-')), opts);
    await s.launch();
    return s;
  }

  private async launch(): Promise<void> {
    // appendfsync always: a SIGKILL loses no acknowledged write, so a restart test checks our recovery,
    // not Redis's one-second fsync window. noeviction is what BullMQ requires.
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.opts.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      this.opts.appendfsync ?? 'always',
      '--maxmemory-policy',
      'noeviction',
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`redis-server exited with ${proc.exitCode}: ${this.output}`);
      const c = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') return;
      } catch {
        // not listening yet
      } finally {
        c.disconnect();
      }
      if (Date.now() > deadline)
        throw new Error(`redis-server did not start on ${this.port}: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILLs the server (no shutdown save) and waits for it to exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  /** Starts the server again on the same port and directory; it replays the AOF. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
