// Redis connections: one factory so every process uses the same URL handling and reconnect policy.

import { Redis } from 'ioredis';

/**
 * Opens a connection. `patient` connections queue commands across a Redis restart instead of failing
 * them (workers and BullMQ need this; BullMQ requires `maxRetriesPerRequest: null`).
 */
export function connectRedis(url: string, patient: boolean): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: patient ? null : 3,
    enableReadyCheck: true,
    // Reconnect quickly (a restarted redis-server is back within a second on loopback), capped at 2 s.
    retryStrategy: (times) => Math.min(50 * times, 2000),
  });
}
