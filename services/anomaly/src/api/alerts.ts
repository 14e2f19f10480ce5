// Threshold-crossing notifications: an alert stream (Redis Streams) drives webhooks; pub/sub drives live SSE.

import { randomBytes, randomUUID } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Keys } from '../store/keys.js';
import { HttpError } from './errors.js';
import { forbiddenAddress, guardedLookup, hostMatches, postJson, signature } from './webhook-http.js';

export { forbiddenAddress, signature };

/** One point whose score crossed its model's threshold. */
export interface Alert {
  readonly id: string;
  readonly tenant: string;
  readonly modelId: string;
  readonly modelVersion: number;
  readonly score: number;
  readonly threshold: number;
  readonly point: readonly number[];
  /** Index of the point within its request or stream. */
  readonly index: number;
  readonly at: string;
}

/** A registered webhook. */
export interface Webhook {
  readonly id: string;
  readonly url: string;
  readonly createdAt: string;
}

/** A webhook as stored: with the secret that signs its deliveries (shown to the client once). */
export interface StoredWebhook extends Webhook {
  readonly secret: string;
}

// History bound: the alert stream is a log for webhook delivery, not storage; ~100k entries is days of alerts.
const STREAM_MAXLEN = 100_000;
/** Alerts kept per model for SSE replay (Last-Event-ID); trimmed approximately (MAXLEN ~). */
export const RECENT_ALERTS = 1000;
const GROUP = 'webhooks';

/** Checks a webhook URL: http(s) only, and the host on the allow-list when one is configured. */
export function checkWebhookUrl(raw: string, allowed: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError(400, 'InvalidWebhookUrl', `url: ${JSON.stringify(raw)} is not a URL`, {
      field: '/url',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HttpError(
      400,
      'InvalidWebhookUrl',
      `url: scheme ${url.protocol} is not allowed (http or https only)`,
      { field: '/url' },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new HttpError(400, 'InvalidWebhookUrl', 'url: credentials in the URL are not allowed', {
      field: '/url',
    });
  }
  const host = url.hostname.toLowerCase();
  if (allowed.length > 0 && !hostMatches(host, allowed))
    throw new HttpError(400, 'WebhookHostNotAllowed', `url: host ${host} is not on the webhook allow-list`, {
      field: '/url',
      host,
    });
  return url;
}

const WEBHOOK_LOOKUP = guardedLookup(forbiddenAddress);
/** For {@link checkWebhookTarget} at delivery: names are left to {@link WEBHOOK_LOOKUP} at connect time. */
const NAMES_AT_CONNECT: Lookup = () => Promise.resolve([]);

/** Resolves a host name to its addresses (injectable for tests). */
export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * With no allow-list, refuses a webhook whose host is, or resolves to, a {@link forbiddenAddress} address (server-side
 * request forgery against the metadata service). A name that does not resolve passes: delivery will fail and retry.
 * Checked at registration; at delivery literals are checked again and names on the address each connection
 * resolves ({@link guardedLookup}), so a name that re-resolves in between cannot slip through.
 */
export async function checkWebhookTarget(
  url: URL,
  allowed: readonly string[],
  lookup: Lookup = systemLookup,
): Promise<void> {
  if (allowed.length > 0) return; // the admin's list decides (checkWebhookUrl)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await lookup(host);
    } catch {
      return;
    }
  }
  const bad = addresses.find(forbiddenAddress);
  if (bad !== undefined)
    throw new HttpError(
      400,
      'WebhookHostNotAllowed',
      `url: host ${host} ${bad === host ? 'is' : `resolves to ${bad},`} a link-local or unspecified address ` +
        '(instance metadata); name it in WEBHOOK_ALLOWED_HOSTS to allow it',
      { field: '/url', host },
    );
}

/** Publishes alerts and keeps webhook registrations. */
export class AlertBus {
  private readonly listeners = new Map<string, Set<(a: Alert) => void>>();

  constructor(
    private readonly redis: Redis,
    /** A dedicated connection in subscriber mode. */
    private readonly sub: Redis,
    private readonly keys: Keys,
    private readonly published: Counter,
  ) {
    this.sub.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (set === undefined) return;
      const alert = JSON.parse(message) as Alert;
      for (const fn of set) fn(alert);
    });
  }

  /** Appends alerts to the stream (for webhooks) and publishes them (for SSE), in one round trip. */
  async publish(alerts: readonly Omit<Alert, 'id' | 'at'>[]): Promise<void> {
    if (alerts.length === 0) return;
    const p = this.redis.pipeline();
    const at = new Date().toISOString();
    for (const a of alerts) {
      const full: Alert = { ...a, id: randomUUID(), at };
      const json = JSON.stringify(full);
      p.xadd(
        this.keys.alertStream(),
        'MAXLEN',
        '~',
        String(STREAM_MAXLEN),
        '*',
        'tenant',
        a.tenant,
        'model',
        a.modelId,
        'alert',
        json,
      );
      p.xadd(
        this.keys.recentAlerts(a.tenant, a.modelId),
        'MAXLEN',
        '~',
        String(RECENT_ALERTS),
        '*',
        'alert',
        json,
      );
      p.publish(this.keys.alertChannel(a.tenant, a.modelId), json);
    }
    await p.exec();
    this.published.inc(alerts.length);
  }

  /** A model's most recent alerts (up to about {@link RECENT_ALERTS}), oldest first. */
  async recent(tenant: string, modelId: string): Promise<Alert[]> {
    const entries = await this.redis.xrange(this.keys.recentAlerts(tenant, modelId), '-', '+');
    const out: Alert[] = [];
    for (const [, fields] of entries) {
      const json = fieldOf(fields, 'alert');
      if (json !== undefined) out.push(JSON.parse(json) as Alert);
    }
    return out;
  }

  /** Subscribes to a model's live alerts; returns the unsubscribe function. */
  async subscribe(tenant: string, modelId: string, fn: (a: Alert) => void): Promise<() => void> {
    const channel = this.keys.alertChannel(tenant, modelId);
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.sub.subscribe(channel);
    }
    set.add(fn);
    return () => {
      const s = this.listeners.get(channel);
      if (s === undefined) return;
      s.delete(fn);
      if (s.size === 0) {
        this.listeners.delete(channel);
        void this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async addWebhook(tenant: string, modelId: string, url: string): Promise<StoredWebhook> {
    const hook: StoredWebhook = {
      id: randomUUID(),
      url,
      createdAt: new Date().toISOString(),
      secret: randomBytes(32).toString('hex'),
    };
    await this.redis.hset(this.keys.webhooks(tenant, modelId), hook.id, JSON.stringify(hook));
    return hook;
  }

  async listWebhooks(tenant: string, modelId: string): Promise<Webhook[]> {
    const h = await this.redis.hvals(this.keys.webhooks(tenant, modelId));
    return h.map((v) => {
      const { id, url, createdAt } = JSON.parse(v) as StoredWebhook;
      return { id, url, createdAt };
    });
  }

  async deleteWebhook(tenant: string, modelId: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.webhooks(tenant, modelId), id)) === 1;
  }
}

/** Options of the webhook dispatcher. */
export interface DispatcherOptions {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly allowedHosts: readonly string[];
  /** An entry pending this long on a dead consumer is claimed by a live one. */
  readonly claimIdleMs: number;
}

/**
 * Delivers alerts to webhooks: every API process is a consumer in one group on the alert stream, so each
 * alert is delivered by one process; entries of a crashed process are reclaimed with XAUTOCLAIM.
 */
export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly consumer = `api-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    /** A dedicated connection: XREADGROUP BLOCK holds it. */
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
    private readonly deliveries: Counter<'outcome'>,
  ) {}

  async start(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.alertStream(), GROUP, '$', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let lastClaim = 0;
    while (this.running) {
      try {
        if (Date.now() - lastClaim > this.opts.claimIdleMs / 2) {
          lastClaim = Date.now();
          const claimed = (await this.redis.xautoclaim(
            this.keys.alertStream(),
            GROUP,
            this.consumer,
            this.opts.claimIdleMs,
            '0-0',
            'COUNT',
            64,
          )) as [string, [string, string[]][]];
          await this.handle(claimed[1] ?? []);
        }
        const res = (await this.redis.xreadgroup(
          'GROUP',
          GROUP,
          this.consumer,
          'COUNT',
          64,
          'BLOCK',
          1000,
          'STREAMS',
          this.keys.alertStream(),
          '>',
        )) as [string, [string, string[]][]][] | null;
        for (const [, entries] of res ?? []) await this.handle(entries);
      } catch (err) {
        if (!this.running) return;
        this.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'Failed to read the alert stream',
        );
        await sleep(500);
      }
    }
  }

  private async handle(entries: [string, string[]][]): Promise<void> {
    await Promise.all(
      entries.map(async ([id, fields]) => {
        const json = fieldOf(fields, 'alert');
        if (json !== undefined) {
          const alert = JSON.parse(json) as Alert;
          const hooks = await this.redis.hvals(this.keys.webhooks(alert.tenant, alert.modelId));
          await Promise.all(hooks.map((h) => this.deliver(JSON.parse(h) as StoredWebhook, alert)));
        }
        // Acknowledged after every delivery finished or gave up: a crash before this redelivers (at least once).
        await this.redis.xack(this.keys.alertStream(), GROUP, id);
      }),
    );
  }

  private async deliver(hook: StoredWebhook, alert: Alert): Promise<void> {
    const log = this.log.child({ webhook: hook.id, alert: alert.id });
    try {
      // Re-checked at delivery: the allow-list may have narrowed since registration. An address literal is checked
      // here; a name is checked on each address a connection resolves (WEBHOOK_LOOKUP), not by a lookup of its own.
      await checkWebhookTarget(
        checkWebhookUrl(hook.url, this.opts.allowedHosts),
        this.opts.allowedHosts,
        NAMES_AT_CONNECT,
      );
    } catch {
      this.deliveries.inc({ outcome: 'rejected' });
      log.warn({ url: hook.url }, 'Skipped a webhook whose host is no longer allowed');
      return;
    }
    const body = JSON.stringify({ type: 'anomaly', alert });
    // Without an allow-list, every connection checks the address it connects to (DNS may change after the check
    // above); redirects are not followed (a 3xx counts as a failed attempt).
    const lookup = this.opts.allowedHosts.length === 0 ? WEBHOOK_LOOKUP : undefined;
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      try {
        const status = await postJson(
          new URL(hook.url),
          body,
          {
            'content-type': 'application/json',
            'x-skyport-alert-id': alert.id,
            'x-skyport-attempt': String(attempt),
            'x-skyport-signature': signature(hook.secret, body),
          },
          lookup === undefined ? { timeoutMs: 5000 } : { timeoutMs: 5000, lookup },
        );
        if (status >= 200 && status < 300) {
          this.deliveries.inc({ outcome: 'delivered' });
          return;
        }
        // 4xx other than 408/429 means the receiver rejects this alert: retrying cannot help.
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          this.deliveries.inc({ outcome: 'rejected' });
          log.warn({ status }, 'Webhook rejected an alert');
          return;
        }
        log.warn({ status, attempt }, 'Webhook delivery failed');
      } catch (err) {
        log.warn(
          { err: err instanceof Error ? err.message : String(err), attempt },
          'Webhook delivery failed',
        );
      }
      if (attempt < this.opts.attempts) await sleep(this.opts.backoffMs * 2 ** (attempt - 1));
    }
    this.deliveries.inc({ outcome: 'gave_up' });
    log.error({ attempts: this.opts.attempts }, 'Gave up delivering an alert to a webhook');
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
