// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings and compare-and-swap writes.
import type { Logger } from 'pino';
import type { KubeObject, ObjectRef } from '../kube/client.js';
import { isConflict, statusOf } from '../kube/errors.js';
import { errorMessage } from '../errors.js';
import { realClock, type Clock, type ClockTimer } from './clock.js';
import type { RuntimeMetrics } from './metrics.js';

/** The Lease calls leader election needs; `Kube` implements them. */
export interface LeaseStore {
  get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  create<T extends KubeObject>(obj: T): Promise<T>;
  replace<T extends KubeObject>(obj: T): Promise<T>;
}

/** A coordination.k8s.io/v1 Lease as plain JSON. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** Lease name and namespace. */
  name: string;
  namespace: string;
  /** This candidate's identity (unique per replica). */
  identity: string;
  /** How long a lease is valid without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down (default 10 s). */
  renewDeadlineMs?: number;
  /** Interval between acquire or renew attempts (default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  /** Called when leadership is lost or released. */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to us). */
  onNewLeader?: (identity: string) => void;
  log?: Logger;
  metrics?: RuntimeMetrics;
  /** Time source for lease timestamps, expiry and retries (default the real clock; tests pass a fake one). */
  clock?: Clock;
}

const LEASE_API = 'coordination.k8s.io/v1';

/** RFC 3339 with microseconds, the wire format of `metav1.MicroTime`. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * A Lease-based leader elector (client-go's leaderelection):
 * - a candidate takes the Lease when it is free (no holder: a released lease) or when the holder has not
 *   renewed for `leaseDuration`. Expiry counts from the earlier of the Lease's `renewTime` and the moment
 *   this candidate saw the record change (client-go uses only the latter, which can delay a takeover by a
 *   retry period or two); a `renewTime` in the future (clock skew) is ignored. Trusting `renewTime`
 *   assumes replica clocks agree within `leaseDuration − renewDeadline` (5 s by default);
 * - a standby wakes exactly when the observed lease expires, so a crashed leader is replaced within
 *   `leaseDuration` of its last renewal;
 * - every write is a PUT carrying the read `resourceVersion` (compare-and-swap), so two candidates never
 *   both win;
 * - the leader renews every `retryPeriod`; if it cannot renew within `renewDeadline` it steps down;
 * - `stop({ release: true })` clears the holder so a standby takes over at its next retry.
 */
export class LeaderElector {
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  private stopped = false;
  private readonly clock: Clock;
  private timer: ClockTimer | undefined;
  private observed: { holder: string; renewTime: string; rv: string } | undefined;
  private observedAt = 0;
  private expiresAt = 0;
  private lastRenew = 0;
  private lease: Lease | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private currentLeader = '';

  constructor(
    private readonly store: LeaseStore,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.clock = opts.clock ?? realClock;
    if (!(this.leaseMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs)) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
    opts.metrics?.leaderStatus.set({ name: opts.name }, 0);
  }

  /** True while this candidate holds the Lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The identity of the holder last observed (empty when none). */
  get leader(): string {
    return this.currentLeader;
  }

  /** True after start and before stop: the process is either leading or a standby candidate. */
  get isRunning(): boolean {
    return this.loop !== undefined && !this.stopped;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.run();
  }

  /**
   * Stops campaigning. With `release` (default) a leader clears the holder so a standby takes over
   * immediately; without it the Lease is left to expire — what a crash looks like to the others.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.wake?.();
    await this.loop;
    if (this.leading && opts.release !== false) await this.release();
    this.setLeading(false);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const t0 = this.clock.now();
      const ok = await this.tryAcquireOrRenew();
      if (this.stopped) break;
      if (ok) {
        this.lastRenew = t0;
        this.setLeading(true);
      } else if (this.leading && this.clock.now() - this.lastRenew > this.renewDeadlineMs) {
        this.opts.log?.error({ lease: this.opts.name }, 'Lost leader election: renew deadline exceeded');
        this.setLeading(false);
      }
      await this.sleep(this.nextDelay());
    }
  }

  /** A standby sleeps until the observed lease expires if that is sooner than the retry period. */
  private nextDelay(): number {
    if (this.leading || this.currentLeader === '' || this.currentLeader === this.opts.identity)
      return this.retryMs;
    const untilExpiry = this.expiresAt - this.clock.now() + 20;
    return Math.max(50, Math.min(this.retryMs, untilExpiry));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.clock.setTimeout(resolve, ms);
    });
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.opts.metrics?.leaderStatus.set({ name: this.opts.name }, v ? 1 : 0);
    if (v) {
      this.opts.log?.info({ lease: this.opts.name, identity: this.opts.identity }, 'Acquired leader lease');
      this.opts.onStartedLeading?.();
    } else {
      this.opts.log?.info({ lease: this.opts.name, identity: this.opts.identity }, 'Stopped leading');
      this.opts.onStoppedLeading?.();
    }
  }

  private observe(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = lease.spec?.renewTime ?? '';
    const rv = lease.metadata?.resourceVersion ?? '';
    if (
      this.observed === undefined ||
      this.observed.holder !== holder ||
      this.observed.renewTime !== renewTime
    ) {
      this.observedAt = this.clock.now();
    }
    this.observed = { holder, renewTime, rv };
    const renewMs = Date.parse(renewTime);
    const trusted =
      Number.isFinite(renewMs) && renewMs <= this.clock.now() + 1000 ? renewMs : this.observedAt;
    // The holder's declared duration wins (client-go): a released lease declares 1 s.
    const declared = lease.spec?.leaseDurationSeconds;
    const durationMs = declared !== undefined && declared > 0 ? declared * 1000 : this.leaseMs;
    this.expiresAt = Math.min(this.observedAt, trusted) + durationMs;
    this.lease = lease;
    if (holder !== this.currentLeader) {
      this.currentLeader = holder;
      if (holder !== '') {
        this.opts.log?.info({ lease: this.opts.name, leader: holder }, 'Observed new leader');
        this.opts.onNewLeader?.(holder);
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.opts;
    const now = new Date(this.clock.now());
    try {
      const current = await this.store.get<Lease>({ apiVersion: LEASE_API, kind: 'Lease', name, namespace });
      if (current === undefined) {
        const created = await this.store.create<Lease>({
          apiVersion: LEASE_API,
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseMs / 1000)),
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        this.observe(created);
        return true;
      }
      this.observe(current);
      const holder = current.spec?.holderIdentity ?? '';
      const expired = this.clock.now() > this.expiresAt;
      if (holder !== '' && holder !== identity && !expired) return false;
      const taking = holder !== identity;
      const updated = await this.store.replace<Lease>({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: identity,
          leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseMs / 1000)),
          renewTime: microTime(now),
          acquireTime: taking ? microTime(now) : (current.spec?.acquireTime ?? microTime(now)),
          leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (taking && holder !== '' ? 1 : 0),
        },
      });
      this.observe(updated);
      return true;
    } catch (err) {
      // A conflict means another candidate wrote first: an ordinary lost race, not worth a warning.
      if (isConflict(err)) this.opts.log?.debug({ lease: name }, 'Lost lease update race');
      else
        this.opts.log?.warn(
          { lease: name, err: errorMessage(err), status: statusOf(err) },
          'Failed to acquire or renew lease',
        );
      return false;
    }
  }

  private async release(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined || lease.spec?.holderIdentity !== this.opts.identity) return;
    try {
      const now = microTime(new Date(this.clock.now()));
      await this.store.replace<Lease>({
        ...lease,
        // client-go's release: clear the holder and shrink the duration so standbys take over at once.
        spec: {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          renewTime: now,
          acquireTime: now,
        },
      });
      this.opts.log?.info({ lease: this.opts.name }, 'Released leader lease');
    } catch (err) {
      this.opts.log?.warn(
        { lease: this.opts.name, err: errorMessage(err) },
        'Failed to release leader lease',
      );
    }
  }
}
