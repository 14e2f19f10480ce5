// `services.sh up|down|status` back end: long-lived Redis and PostgreSQL for local work, state by PID.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../cluster/paths.js';
import { isOurProcess, stopProcess } from '../cluster/process.js';
import { startPostgres, startRedis } from './index.js';

const dir = process.env.SKYPORT_SERVICES_DIR ?? join(cacheRoot(), 'services');
const stateFile = join(dir, 'state.json');
/** Shell-sourceable env file with the connection URLs. */
export const envFile = join(dir, 'services.env');

interface Rec {
  name: string;
  pid: number;
  exe: string;
  logFile: string;
  url: string;
  dataDir: string;
  signal: NodeJS.Signals;
}

const read = (): Rec[] =>
  existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as Rec[]) : [];

async function up(): Promise<number> {
  const recs = read();
  if (recs.length > 0 && recs.every((r) => isOurProcess(r.pid, r.exe))) {
    console.log(readFileSync(envFile, 'utf8').trim());
    return 0;
  }
  await down();
  mkdirSync(dir, { recursive: true });
  // Data goes to fresh temp folders: PostgreSQL runs as `postgres` when we are root and cannot enter ~root.
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  const state: Rec[] = [
    {
      name: 'redis',
      pid: redis.pid,
      exe: redis.exe,
      logFile: redis.logFile,
      url: redis.url,
      dataDir: redis.dir,
      signal: 'SIGTERM',
    },
    {
      name: 'postgres',
      pid: postgres.pid,
      exe: postgres.exe,
      logFile: postgres.logFile,
      url: postgres.url,
      dataDir: postgres.dir,
      signal: 'SIGINT',
    },
  ];
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  writeFileSync(
    envFile,
    `REDIS_URL=${redis.url}\nDATABASE_URL=${postgres.url}\nPOSTGRES_URL=${postgres.url}\n`,
  );
  console.log(readFileSync(envFile, 'utf8').trim());
  console.log(`# source ${envFile}`);
  return 0;
}

async function down(): Promise<number> {
  for (const r of read()) {
    console.log(`${r.name} (pid ${r.pid}): ${await stopProcess(r, 10_000, r.signal)}`);
    if (r.dataDir) rmSync(r.dataDir, { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  return 0;
}

function status(): number {
  const recs = read();
  if (recs.length === 0) {
    console.log('No services recorded.');
    return 1;
  }
  let ok = true;
  for (const r of recs) {
    const alive = isOurProcess(r.pid, r.exe);
    ok &&= alive;
    console.log(
      `${r.name.padEnd(10)} pid ${String(r.pid).padEnd(8)} ${alive ? 'running' : 'NOT RUNNING'}  ${r.url}`,
    );
  }
  return ok ? 0 : 1;
}

const cmds: Record<string, () => number | Promise<number>> = { up, down, status };
const fn = cmds[process.argv[2] ?? ''];
if (!fn) {
  console.error('usage: cli.ts up|down|status');
  process.exit(2);
}
Promise.resolve(fn()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
