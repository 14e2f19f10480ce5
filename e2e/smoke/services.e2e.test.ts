// Smoke tests of the real test services: PostgreSQL and Redis round-trips, and Redis durability (AOF).
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, startRedis, type ServiceHandle } from '../services/index.js';

describe('PostgreSQL', () => {
  let db: ServiceHandle;
  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(async () => {
    await db.stop({ removeData: true });
  });

  it('round-trips rows on a loopback port', async () => {
    expect(db.url).toMatch(/^postgres:\/\/skyport@127\.0\.0\.1:\d+\/skyport$/);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('CREATE TABLE catalog (id int PRIMARY KEY, ra double precision, dec double precision)');
      await c.query('INSERT INTO catalog VALUES ($1, $2, $3), ($4, $5, $6)', [1, 10.5, -3.25, 2, 200.1, 45]);
      const r = await c.query<{ id: number; ra: number }>('SELECT id, ra FROM catalog WHERE dec > 0');
      expect(r.rows).toEqual([{ id: 2, ra: 200.1 }]);
    } finally {
      await c.end();
    }
  });
});

describe('Redis', () => {
  let redis: ServiceHandle;
  beforeAll(async () => {
    redis = await startRedis({ appendFsync: 'always' });
  });
  afterAll(async () => {
    await redis.stop({ removeData: true });
  });

  it('round-trips values and keeps them across a crash (SIGKILL) thanks to the AOF', async () => {
    const r1 = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    await r1.connect();
    await r1.set('skyport:smoke', 'hello');
    await r1.rpush('skyport:list', 'a', 'b');
    expect(await r1.get('skyport:smoke')).toBe('hello');
    r1.disconnect();

    const oldPid = redis.pid;
    await redis.kill();
    await redis.restart();
    expect(redis.pid).not.toBe(oldPid);
    const r2 = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    await r2.connect();
    try {
      expect(await r2.get('skyport:smoke')).toBe('hello');
      expect(await r2.lrange('skyport:list', 0, -1)).toEqual(['a', 'b']);
      expect(await r2.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      r2.disconnect();
    }
  });
});
