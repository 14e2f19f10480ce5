// Real Redis and PostgreSQL for tests: started on free loopback ports with data in a temporary folder,
// stopped by PID. Install them with `bash e2e/services/services.sh install` (Debian packages).
import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../cluster/ports.js';
import { stopProcess, tailFile } from '../cluster/process.js';

/** A running test service. */
export interface ServiceHandle {
  name: 'redis' | 'postgres';
  /** Connection URL (`redis://127.0.0.1:<port>` or `postgres://<user>@127.0.0.1:<port>/<db>`). */
  url: string;
  port: number;
  /** Data folder (the data itself, logs and sockets live below it). */
  dir: string;
  pid: number;
  exe: string;
  logFile: string;
  /** Graceful stop (SIGTERM, SIGKILL after 10 s). Data is kept unless `removeData`. */
  stop(opts?: { removeData?: boolean }): Promise<void>;
  /** SIGKILL, as a crash would; data stays, so {@link ServiceHandle.restart} can check durability. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder. */
  restart(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function spawnServer(
  exe: string,
  args: string[],
  logFile: string,
  ids?: { uid: number; gid: number },
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(exe, args, { stdio: ['ignore', fd, fd], detached: true, ...(ids ?? {}) });
    if (child.pid === undefined) throw new Error(`spawn of ${exe} returned no PID`);
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function which(names: string[], hint: string): string {
  for (const n of names) if (existsSync(n)) return n;
  throw new Error(
    `${hint} not found (looked in ${names.join(', ')}): run \`bash e2e/services/services.sh install\``,
  );
}

async function waitFor(
  what: string,
  pid: number,
  logFile: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`${what} exited during start-up; last lines of ${logFile}:\n${tailFile(logFile, 20)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(
        `${what} not ready within ${timeoutMs} ms; last lines of ${logFile}:\n${tailFile(logFile, 20)}`,
      );
    await sleep(100);
  }
}

/** Sends PING over RESP and expects +PONG. */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v: boolean): void => {
      s.destroy();
      ok(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Sends one inline command and collects the reply until `done(reply)` says it is complete. */
function redisCommand(
  port: number,
  command: string,
  done: (reply: string) => boolean,
  timeoutMs = 1000,
): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect({ host: '127.0.0.1', port });
    let reply = '';
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      fail(new Error(`redis ${command}: timeout`));
    });
    s.on('error', fail);
    s.on('connect', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      reply += d.toString();
      if (done(reply)) {
        s.destroy();
        ok(reply);
      }
    });
  });
}

/**
 * True once Redis answers and has no AOF rewrite pending. Redis 7 writes its first AOF base file in a
 * background rewrite right after start; a SIGKILL before that finishes can lose writes, so crash tests
 * must not begin earlier.
 */
async function redisDurable(port: number): Promise<boolean> {
  if (!(await redisPing(port))) return false;
  // A bulk-string reply is complete once `$<len>\r\n` plus len bytes plus the final CRLF arrived.
  const info = await redisCommand(port, 'INFO persistence', (r) => {
    const m = /^\$(\d+)\r\n/.exec(r);
    return m !== null && Buffer.byteLength(r) >= m[0].length + Number(m[1]) + 2;
  });
  return /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info);
}

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** Data folder (default: a new temp dir). */
  dir?: string;
  port?: number;
  /** Append-only file persistence (default true: crash tests need it). */
  appendOnly?: boolean;
  /**
   * AOF fsync policy (default `everysec`). Use `always` when a test SIGKILLs Redis and expects every
   * acknowledged write back: under `everysec` Redis may postpone AOF writes for up to 2 s while a slow
   * background fsync runs, and still acknowledge the commands.
   */
  appendFsync?: 'always' | 'everysec' | 'no';
}

/** Starts redis-server on 127.0.0.1 with AOF on and data in a temp folder. */
export async function startRedis(opts: RedisOptions = {}): Promise<ServiceHandle> {
  const exe = which(['/usr/bin/redis-server', '/usr/local/bin/redis-server'], 'redis-server');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skyport-redis-'));
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const logFile = join(dir, 'redis.log');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    opts.appendOnly === false ? 'no' : 'yes',
    '--appendfsync',
    opts.appendFsync ?? 'everysec',
    '--protected-mode',
    'yes',
    '--logfile',
    '',
  ];
  const h: ServiceHandle = {
    name: 'redis',
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: 0,
    exe,
    logFile,
    async stop(o = {}) {
      await stopProcess({ name: 'redis', pid: h.pid, exe, logFile }, 10_000);
      if (o.removeData) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await stopProcess({ name: 'redis', pid: h.pid, exe, logFile }, 0, 'SIGKILL');
    },
    async restart() {
      h.pid = spawnServer(exe, args, logFile);
      await waitFor('redis-server', h.pid, logFile, () =>
        opts.appendOnly === false ? redisPing(port) : redisDurable(port),
      );
    },
  };
  await h.restart();
  return h;
}

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  dir?: string;
  port?: number;
  /** Database created for the tests (default `skyport`). */
  database?: string;
  /** Superuser name, trust-authenticated on loopback (default `skyport`). */
  user?: string;
  /** listen_addresses (default `127.0.0.1`); the real tier adds the node bridge's host address for pods. */
  listenAddresses?: string;
}

/** The newest /usr/lib/postgresql/<major>/bin holding initdb and postgres. */
export function postgresBinDir(root = '/usr/lib/postgresql'): string {
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors[0])
    throw new Error(`PostgreSQL not found in ${root}: run \`bash e2e/services/services.sh install\``);
  return join(root, majors[0], 'bin');
}

/** PostgreSQL refuses to run as root: use the `postgres` system user then. */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root and there is no `postgres` user: install the postgresql package');
  }
}

/** initdb in a temp folder and start postgres on 127.0.0.1 (fsync off: throw-away data). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<ServiceHandle> {
  const bin = postgresBinDir();
  const exe = join(bin, 'postgres');
  const user = opts.user ?? 'skyport';
  const database = opts.database ?? 'skyport';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skyport-pg-'));
  mkdirSync(dir, { recursive: true });
  const ids = postgresIds();
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  const logFile = join(dir, 'postgres.log');
  mkdirSync(sock, { recursive: true });
  if (ids) for (const p of [dir, sock]) chownSync(p, ids.uid, ids.gid);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    try {
      execFileSync(
        join(bin, 'initdb'),
        ['-D', data, '-U', user, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          ...(ids ?? {}),
        },
      );
    } catch (err) {
      throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`, {
        cause: err,
      });
    }
  }
  const port = opts.port ?? (await freePort());
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    sock,
    '-c',
    `listen_addresses=${opts.listenAddresses ?? '127.0.0.1'}`,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ];
  const base = `postgres://${user}@127.0.0.1:${port}`;
  const ready = async (): Promise<boolean> => {
    const c = new pg.Client({ connectionString: `${base}/postgres`, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const h: ServiceHandle = {
    name: 'postgres',
    url: `${base}/${database}`,
    port,
    dir,
    pid: 0,
    exe,
    logFile,
    async stop(o = {}) {
      // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to leave.
      await stopProcess({ name: 'postgres', pid: h.pid, exe, logFile }, 10_000, 'SIGINT');
      if (o.removeData) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await stopProcess({ name: 'postgres', pid: h.pid, exe, logFile }, 0, 'SIGKILL');
      // Backends exit once they notice the postmaster is gone; wait for its pid file to be stale-free.
      await sleep(200);
    },
    async restart() {
      h.pid = spawnServer(exe, args, logFile, ids);
      await waitFor('postgres', h.pid, logFile, ready);
    },
  };
  if (ids) {
    closeSync(openSync(logFile, 'a'));
    chownSync(logFile, ids.uid, ids.gid);
  }
  await h.restart();
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  return h;
}
