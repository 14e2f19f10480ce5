// The reconcile kit for a job's end notification (spec.notify → status.notification), used by the QueryJob and
// CutoutJob controllers: the event, its signature, the admin's destination policy, the retry schedule (requeues,
// not sleeps) and the POST itself — over the anomaly service's webhook transport, whose connect-time address check
// refuses a name that resolves to a forbidden address (DNS rebinding included).
import {
  forbiddenAddress,
  guardedLookup,
  hostMatches,
  loopbackAddress,
  postJson,
  signature,
  type Resolve,
} from '@skyport/anomaly/webhook';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { isIP, type LookupFunction } from 'node:net';
import type { Notification, Notify } from '../api/v1alpha1/notify.js';
import type { Kube, KubeObject } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import { rfc3339 } from '../meta/index.js';
import type { ReconcileResult } from './controller.js';
import type { SettingsOf } from './settings.js';

/** Phases a notification announces. ARCHIVED only when a job reached it without one of these first. */
export const NOTIFY_PHASES: readonly string[] = ['COMPLETED', 'ERROR', 'ABORTED'];
/** The field a refused destination is reported at. */
export const NOTIFY_URL_FIELD = 'spec.notify.webhook.url';

/** The rules a {@link Notifier} needs (the signing key's Secret, in the job's namespace); add them to the kind's. */
export const NOTIFY_RBAC: V1PolicyRule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }];

/** The admin's rules for notifications (controllers.<kind>.notify* settings). */
export interface NotifyPolicy {
  /**
   * Hosts (exact, or `*.suffix`) that may be reached over plain http and may be loopback addresses: cluster-internal
   * names such as `*.svc.cluster.local`. Link-local, unspecified and metadata addresses are refused even for them.
   */
  readonly allowedHosts: readonly string[];
  /** POSTs before giving up. */
  readonly attempts: number;
  /** Wait after the first failed attempt; doubled after each further one, up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Per POST, connect to response. */
  readonly timeoutMs: number;
}

/** What a job kind tells the kit about one job (its status mapped to the event's fields). */
export interface JobFacts {
  readonly phase: string | undefined;
  readonly owner?: string;
  readonly runId?: string;
  readonly startTime?: string;
  readonly endTime?: string;
  /** Counts and sizes worth a glance (rows, positions, bytes …). */
  readonly summary?: Readonly<Record<string, number | boolean>>;
  /** Where the owner fetches the results, when the kind serves them over HTTP. */
  readonly resultsUrl?: string;
  readonly files?: readonly { name: string; bytes?: number; sha256?: string }[];
  readonly error?: { readonly code: string; readonly message: string; readonly type?: string };
}

/** The JSON body of a notification. */
export interface JobEvent {
  readonly type: 'skyport.io/job.ended';
  readonly idempotencyKey: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly owner?: string;
  readonly runId?: string;
  readonly phase: string;
  readonly times: { created?: string; started?: string; ended?: string };
  readonly result?: {
    summary?: Readonly<Record<string, number | boolean>>;
    url?: string;
    files?: readonly { name: string; bytes?: number; sha256?: string }[];
  };
  readonly error?: { code: string; message: string; type?: string };
}

/** `<uid>/<phase>`: the same in every attempt and after a restart, so a receiver can drop repeats. */
export function idempotencyKey(uid: string, phase: string): string {
  return `${uid}/${phase}`;
}

/** The event announcing `phase` of `job` (pure: everything comes from the object and its facts). */
export function buildEvent(job: KubeObject, phase: string, facts: JobFacts): JobEvent {
  const m = job.metadata ?? {};
  const uid = m.uid ?? '';
  const result =
    facts.summary !== undefined || facts.resultsUrl !== undefined || facts.files !== undefined
      ? {
          ...(facts.summary !== undefined && { summary: facts.summary }),
          ...(facts.resultsUrl !== undefined && { url: facts.resultsUrl }),
          ...(facts.files !== undefined && { files: facts.files }),
        }
      : undefined;
  return {
    type: 'skyport.io/job.ended',
    idempotencyKey: idempotencyKey(uid, phase),
    apiVersion: job.apiVersion ?? '',
    kind: job.kind ?? '',
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid,
    ...(facts.owner !== undefined && { owner: facts.owner }),
    ...(facts.runId !== undefined && { runId: facts.runId }),
    phase,
    times: {
      ...(m.creationTimestamp !== undefined && { created: m.creationTimestamp }),
      ...(facts.startTime !== undefined && { started: facts.startTime }),
      ...(facts.endTime !== undefined && { ended: facts.endTime }),
    },
    ...(result !== undefined && { result }),
    ...(facts.error !== undefined && { error: { ...facts.error } }),
  };
}

/** The request headers of one attempt; the signature only with a key. */
export function eventHeaders(
  body: string,
  key: string,
  attempt: number,
  secret: string | undefined,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'skyport-operator',
    'x-skyport-event': 'job.ended',
    'x-skyport-idempotency-key': key,
    'x-skyport-attempt': String(attempt),
    ...(secret === undefined ? {} : { 'x-skyport-signature': signature(secret, body) }),
  };
}

/** The wait after `attempts` failed attempts: backoff × 2^(attempts−1), capped. */
export function retryDelayMs(policy: NotifyPolicy, attempts: number): number {
  if (attempts <= 0) return 0;
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(attempts - 1, 30));
}

/**
 * Why the policy refuses `raw` as a destination (a sentence naming the field), or undefined. Checked before every
 * attempt; names are checked again on the addresses each connection resolves ({@link Notifier}).
 */
export function destinationProblem(raw: string, policy: NotifyPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${NOTIFY_URL_FIELD}: ${JSON.stringify(raw)} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `${NOTIFY_URL_FIELD}: scheme ${url.protocol} is not allowed (https, or http to an allowed host)`;
  if (url.username !== '' || url.password !== '')
    return `${NOTIFY_URL_FIELD}: credentials in the URL are not allowed`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const allowed = hostMatches(host, policy.allowedHosts);
  if (isIP(host) !== 0 && forbiddenAddress(host))
    return `${NOTIFY_URL_FIELD}: host ${host} is a link-local or unspecified address (instance metadata)`;
  if (url.protocol === 'http:' && !allowed)
    return `${NOTIFY_URL_FIELD}: http is allowed only to hosts in the operator's notifyAllowedHosts; use https for ${host}`;
  const loopback =
    isIP(host) !== 0 ? loopbackAddress(host) : host === 'localhost' || host.endsWith('.localhost');
  if (loopback && !allowed)
    return `${NOTIFY_URL_FIELD}: host ${host} is a loopback address, not in the operator's notifyAllowedHosts`;
  return undefined;
}

/** What the reconcile does about the notification now. */
export type NotifyStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'send'; readonly record: Notification };

/**
 * The next step for a job in `phase` whose last record is `prev` (pure; `now` in ms). One notification per end:
 * a COMPLETED, ERROR or ABORTED job gets one; ARCHIVED only when none was made before it. A different end phase
 * later (a QueryJob refused at submit, fixed and run) starts a new record with its own idempotency key.
 */
export function notifyStep(
  spec: Notify | undefined,
  uid: string,
  phase: string | undefined,
  prev: Notification | undefined,
  now: number,
  policy: NotifyPolicy,
): NotifyStep {
  if (spec === undefined || phase === undefined) return { kind: 'none' };
  const ends = NOTIFY_PHASES.includes(phase) || (phase === 'ARCHIVED' && prev === undefined);
  if (!ends) return { kind: 'none' };
  if (prev !== undefined && prev.phase === phase) {
    if (prev.delivered || prev.gaveUp === true) return { kind: 'none' };
    const last = Date.parse(prev.lastAttemptTime ?? '');
    const due = Number.isNaN(last) ? now : last + retryDelayMs(policy, prev.attempts);
    if (now < due) return { kind: 'wait', ms: due - now };
    return { kind: 'send', record: prev };
  }
  if (prev !== undefined && phase === 'ARCHIVED') return { kind: 'none' };
  return {
    kind: 'send',
    record: { phase, idempotencyKey: idempotencyKey(uid, phase), delivered: false, attempts: 0 },
  };
}

/** How one attempt ended. `final`: retrying cannot help (a refused destination, a 4xx). */
export type AttemptResult = { ok: true } | { ok: false; error: string; final?: boolean };

/** The record after an attempt (pure). It gives up when the attempt was final or the last one allowed. */
export function afterAttempt(
  record: Notification,
  result: AttemptResult,
  now: Date,
  policy: NotifyPolicy,
): Notification {
  const attempts = record.attempts + 1;
  const { lastError: _e, gaveUp: _g, ...rest } = record;
  const base = { ...rest, attempts, lastAttemptTime: rfc3339(now) };
  if (result.ok) return { ...base, delivered: true };
  const gaveUp = result.final === true || attempts >= policy.attempts;
  return { ...base, delivered: false, lastError: result.error.slice(0, 1024), ...(gaveUp && { gaveUp }) };
}

/** The sooner of two reconcile results (a job's own requeue and its notification's). */
export function sooner(
  a: ReconcileResult | undefined | void,
  b: ReconcileResult | undefined | void,
): ReconcileResult | undefined {
  const ms = [a?.requeueAfterMs, b?.requeueAfterMs].filter((x): x is number => x !== undefined && x > 0);
  if (ms.length > 0) return { requeueAfterMs: Math.min(...ms) };
  return a?.requeue === true || b?.requeue === true ? { requeue: true } : undefined;
}

/** The settings every job kind with spec.notify declares; `prefix` makes the env names unique per controller. */
export function notifySettings(prefix: string) {
  return {
    notifyAllowedHosts: {
      type: 'list',
      env: `${prefix}_NOTIFY_ALLOWED_HOSTS`,
      default: [],
      description:
        'Hosts (exact, or *.suffix) a job notification may reach over plain http or at a loopback address, e.g. ' +
        '*.svc.cluster.local; link-local and metadata addresses stay refused.',
    },
    notifyAttempts: {
      type: 'string',
      env: `${prefix}_NOTIFY_ATTEMPTS`,
      default: '8',
      pattern: { regex: '^([1-9]|[1-9][0-9])$', hint: 'a whole number from 1 to 99' },
      description: 'POSTs of one job notification before the operator gives up (with a Warning Event).',
    },
    notifyBackoff: {
      type: 'duration',
      env: `${prefix}_NOTIFY_BACKOFF`,
      default: '10s',
      min: '100ms',
      description: 'Wait after a failed notification attempt, doubled after each further one.',
    },
    notifyMaxBackoff: {
      type: 'duration',
      env: `${prefix}_NOTIFY_MAX_BACKOFF`,
      default: '10m',
      min: '100ms',
      description: 'Longest wait between notification attempts.',
    },
  } as const;
}

/** The policy from parsed {@link notifySettings}. */
export function notifyPolicy(s: SettingsOf<ReturnType<typeof notifySettings>>): NotifyPolicy {
  return {
    allowedHosts: s.notifyAllowedHosts.map((h) => h.toLowerCase()),
    attempts: Number(s.notifyAttempts),
    backoffMs: s.notifyBackoff,
    maxBackoffMs: Math.max(s.notifyBackoff, s.notifyMaxBackoff),
    timeoutMs: 10_000,
  };
}

/** POSTs a body; resolves with the HTTP status (injectable so tests can count connections). */
export type Post = (
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; lookup: LookupFunction },
) => Promise<number>;

/** What the {@link Notifier} needs. */
export interface NotifierDeps {
  readonly kube: Pick<Kube, 'get'>;
  readonly events: Pick<EventRecorder, 'normal' | 'warning'>;
  readonly policy: NotifyPolicy;
  /** Wall clock (tests pass a FakeClock's). */
  readonly now?: () => Date;
  readonly post?: Post;
  /** Name resolution of the connect-time check (tests map names to addresses); default dns.lookup. */
  readonly resolve?: Resolve;
}

/** A job with spec.notify and status.notification, as the kit reads it. */
export interface NotifyingJob extends KubeObject {
  spec: { notify?: Notify };
  status?: { notification?: Notification };
}

/**
 * Sends a job's end notification from its reconcile. Delivery is recorded in status after each attempt, so an
 * operator restart resumes from the record: at least once (a crash between the receiver's 2xx and the status write
 * sends the event again, with the same idempotency key), never again once `delivered` is recorded.
 */
export class Notifier {
  private readonly now: () => Date;
  private readonly post: Post;
  private readonly lookups = new Map<boolean, LookupFunction>();

  constructor(private readonly deps: NotifierDeps) {
    this.now = deps.now ?? (() => new Date());
    this.post = deps.post ?? postJson;
  }

  /**
   * One step for `job`: nothing, a wait, or one attempt whose record `write` stores (merged into the job's status by
   * the caller). Returns when to come back (undefined: nothing pending).
   */
  async sync(
    job: NotifyingJob,
    facts: JobFacts,
    write: (n: Notification) => Promise<unknown>,
  ): Promise<ReconcileResult | undefined> {
    const { policy } = this.deps;
    const uid = job.metadata?.uid ?? '';
    const prev = job.status?.notification;
    const step = notifyStep(job.spec.notify, uid, facts.phase, prev, this.now().getTime(), policy);
    if (step.kind === 'none') return undefined;
    if (step.kind === 'wait') return { requeueAfterMs: step.ms };
    const webhook = job.spec.notify?.webhook;
    if (webhook === undefined) return undefined;
    const result = await this.attempt(job, step.record, facts, webhook);
    const next = afterAttempt(step.record, result, this.now(), policy);
    await write(next);
    if (next.delivered) {
      await this.deps.events.normal(
        job,
        'NotificationDelivered',
        `Delivered the ${next.phase} event to the webhook`,
      );
      return undefined;
    }
    if (next.gaveUp === true) {
      await this.deps.events.warning(
        job,
        'NotificationFailed',
        `Gave up the ${next.phase} event after ${next.attempts} attempt(s): ${next.lastError ?? ''}`,
      );
      return undefined;
    }
    return { requeueAfterMs: retryDelayMs(policy, next.attempts) };
  }

  private async attempt(
    job: NotifyingJob,
    record: Notification,
    facts: JobFacts,
    webhook: NonNullable<Notify['webhook']>,
  ): Promise<AttemptResult> {
    const refused = destinationProblem(webhook.url, this.deps.policy);
    if (refused !== undefined) return { ok: false, error: refused, final: true };
    let secret: string | undefined;
    if (webhook.secretRef !== undefined) {
      const ref = webhook.secretRef;
      const s = await this.deps.kube.get<KubeObject & { data?: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: job.metadata?.namespace ?? '',
        name: ref.name,
      });
      const value = s?.data?.[ref.key];
      if (value === undefined)
        return {
          ok: false,
          error: `spec.notify.webhook.secretRef: Secret ${ref.name} has no key ${ref.key}`,
        };
      secret = Buffer.from(value, 'base64').toString('utf8');
    }
    const body = JSON.stringify(buildEvent(job, record.phase, facts));
    const url = new URL(webhook.url);
    const headers = eventHeaders(body, record.idempotencyKey, record.attempts + 1, secret);
    const allowed = hostMatches(url.hostname.replace(/^\[(.*)\]$/, '$1'), this.deps.policy.allowedHosts);
    try {
      const status = await this.post(url, body, headers, {
        timeoutMs: this.deps.policy.timeoutMs,
        lookup: this.lookup(allowed),
      });
      if (status >= 200 && status < 300) return { ok: true };
      // 4xx other than 408/429: the receiver refuses this event, and would refuse it again.
      const final = status >= 400 && status < 500 && status !== 408 && status !== 429;
      return { ok: false, error: `the webhook answered HTTP ${status}`, final };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { ok: false, error: e.message, final: e.code === 'EFORBIDDEN' };
    }
  }

  /** The connect-time check: loopback addresses pass only for an allowed host. */
  private lookup(allowedHost: boolean): LookupFunction {
    let l = this.lookups.get(allowedHost);
    if (l === undefined) {
      l = allowedHost
        ? guardedLookup(forbiddenAddress, this.deps.resolve)
        : guardedLookup(
            (ip) => forbiddenAddress(ip) || loopbackAddress(ip),
            this.deps.resolve,
            'a link-local, unspecified or loopback address',
          );
      this.lookups.set(allowedHost, l);
    }
    return l;
  }
}
