// The NotebookLab service layer (nublado's third layer): orders the steps of one reconcile — finalizer, quota,
// children in dependency order, stop, culling, status — using the pure builder and status code, and the storage
// layer (storage.ts) for every write.
import { randomBytes } from 'node:crypto';
import type { V1PersistentVolumeClaim, V1Pod, V1Secret } from '../../kube/index.js';
import type { NotebookLab, NotebookProfile } from '../../api/v1alpha1/index.js';
import { NOTEBOOKPROFILE } from '../../api/v1alpha1/index.js';
import type { TerminalError } from '../../errors.js';
import type { EventRecorder, Kube, KubeObject } from '../../kube/index.js';
import { Expectations, StatusWriter, withHash } from '../../runtime/index.js';
import type { ReconcileContext, ReconcileResult } from '../../runtime/index.js';
import { HOME_FINALIZER, TOKEN_KEY, buildChildren, labNames, resolveWith } from './build.js';
import type { DesiredChildren, ResolvedLab } from './build.js';
import { activityTarget, type ActivityResolver } from './culling/activity.js';
import { ActivityMonitor } from './culling/monitor.js';
import { cullingPolicy, decideCulling } from './culling/policy.js';
import type { ActivityFreshness, CullDecision } from './culling/policy.js';
import { HOME_BIND_TIMEOUT_MS, homeBindCheck, homeState, holdsPod, unboundClaims } from './home.js';
import type { HomeState } from './home.js';
import { readPod } from './pod.js';
import { quotaOf } from './quota.js';
import { checkClaims, deleteOwnChild, ownHome, prefetchClaims } from './claims.js';
import type { ClaimCheck, ClaimClient } from './claims.js';
import { conflictRecheckMs } from './ownership.js';
import { PROGRESS_WRITE_DELAY_MS, progressOnly } from './progress.js';
import { LabStorage } from './storage.js';
import { IDLE_WARNING, UPDATE_PENDING, computeStatus, sameStatus } from './status.js';
import { terminalMessage } from './validity.js';
import { keepsRunning, keptDecision, keptLimit, newlyDegraded } from './kept.js';
import { QUOTA_STOP, requeueAfter, statusInputOf, unresolvedInputOf } from './inputs.js';
import type { CullOutcome } from './inputs.js';
import type { StatusInput } from './status.js';

/** What the NotebookLab controller needs from its surroundings. */
export interface NotebookLabDeps {
  kube: Kube;
  events: EventRecorder;
  resolver: ActivityResolver;
  /** How often running labs are polled for activity (default 60 s); a result answers reconciles for half that. */
  cullCheckIntervalMs?: number;
  /** Clock (tests). */
  now?: () => Date;
  /** Token generator (tests). */
  newToken?: () => string;
  /** Lab annotation key prefixes copied onto the lab Pod (see `BuildContext.podAnnotations`). */
  podAnnotationPrefixes?: readonly string[];
  /** How long an immediate-binding home claim may stay unbound before the lab is Degraded (default 60 s). */
  homeBindTimeoutMs?: number;
}

type Lab = NotebookLab;
type LabStatus = NonNullable<Lab['status']>;

/** A desired child with its spec hash ({@link withHash}), or undefined when there is none. */
function hashed(o: KubeObject | undefined): KubeObject | undefined {
  return o === undefined ? undefined : withHash(o);
}

/**
 * One reconcile, step by step. What it keeps between runs is only about its own writes the watch has not shown yet
 * (the status writer's and the storage layer's expectations); everything else is read from the cache.
 */
export class LabReconciler {
  /**
   * Status writes: the last status written per lab (read-your-writes: carried-over fields such as lastTermination,
   * lastActivity and transition times are not lost to a stale cache), and progress-only changes held for
   * {@link PROGRESS_WRITE_DELAY_MS}; later computations start from a held status, so step start times and condition
   * transition times are when they were first seen, not when they were finally written.
   */
  private readonly status: StatusWriter<LabStatus>;
  /** Every write to a lab's children. */
  private readonly storage: LabStorage;
  private readonly now: () => Date;
  private readonly newToken: () => string;
  private readonly checkMs: number;
  /** Activity checks off the work queue; controller.ts reconciles a lab when its check ends. */
  readonly activity: ActivityMonitor;

  constructor(private readonly deps: NotebookLabDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newToken = deps.newToken ?? (() => randomBytes(24).toString('hex'));
    this.checkMs = deps.cullCheckIntervalMs ?? 60_000;
    this.status = new StatusWriter<LabStatus>({
      kube: deps.kube,
      same: sameStatus,
      coalesce: { delayMs: PROGRESS_WRITE_DELAY_MS, deferrable: progressOnly },
    });
    this.storage = new LabStorage(deps.kube, new Expectations({ createOnly: ['Pod'] }));
    // Half the poll period: the poll's reconcile finds the result due and asks again.
    this.activity = new ActivityMonitor({
      resolver: deps.resolver,
      ttlMs: this.checkMs / 2,
      now: () => this.now().getTime(),
    });
  }

  /** The lab with its freshest known status: ours if the cache has not caught up with our last write. */
  private withFreshStatus(lab: Lab): Lab {
    return this.status.fresh(lab);
  }

  async reconcile(ctx: ReconcileContext<Lab>): Promise<ReconcileResult | undefined> {
    if (ctx.object === undefined) return undefined;
    if (
      ctx.object.metadata?.deletionTimestamp !== undefined &&
      !(ctx.object.metadata.finalizers ?? []).includes(HOME_FINALIZER)
    ) {
      this.status.forget(ctx.object.metadata.uid ?? '');
    }
    // The informer holds NotebookLabs as the apiserver stored them (validated by the CRD schema).
    let lab = this.withFreshStatus(ctx.object);
    const names = labNames(lab.metadata.name ?? '');
    const profile = ctx.get<KubeObject>(NOTEBOOKPROFILE.kind, { name: lab.spec.profile }) as
      NotebookProfile | undefined;

    if (lab.metadata.deletionTimestamp !== undefined) return this.finalize(ctx, lab, profile);

    // The finalizer goes on before any child exists, so a lab without it has no children of ours yet.
    const fresh = !(lab.metadata.finalizers ?? []).includes(HOME_FINALIZER);
    let reads: ClaimClient | undefined;
    if (fresh) {
      // The claim check's reads go out with the finalizer write, not after it (they write nothing).
      reads = this.prefetch(ctx, lab, profile);
      const updated = await this.storage.addFinalizer(lab);
      if (updated === undefined) return undefined;
      lab = this.withFreshStatus(updated);
      ctx.log.debug('Added home finalizer');
    }

    // A claim under the home's name that is not the lab's (another owner's retained home) is never its home.
    const pvc = ownHome(ctx, lab) as V1PersistentVolumeClaim | undefined;
    const pod = ctx.owned<KubeObject>('Pod').find((p) => p.metadata?.name === names.pod) as V1Pod | undefined;
    const base: Omit<StatusInput, 'applied' | 'pod'> = {
      lab,
      now: this.now(),
      homeClaimName: names.home,
      pvc,
    };

    const r = resolveWith(lab, profile);
    if ('invalid' in r) return this.unresolved(ctx, lab, profile, pod, base, r.invalid);
    const { profile: prof, resolved } = r;
    const quota = quotaOf(ctx, lab, prof, resolved.homeBytes);
    // Nothing is written over, adopted or deleted that is not the lab's own (ownership.ts).
    const claim = await this.claim(ctx, base, prof, pod, quota.admitted, reads);
    if (claim.done !== undefined) return claim.done;
    const { token, exists: tokenExists } = this.token(ctx, names.token, quota.admitted, claim.secret);
    const desired = buildChildren(
      lab,
      prof,
      { token, podAnnotations: this.passedAnnotations(lab) },
      { admitted: quota.admitted },
    );
    // Hashed once: applyChildren creates it from this, the status compares a running Pod's hash with it.
    const desiredPod = hashed(desired.pod);
    const home = homeState(pvc, desired.home.spec?.storageClassName, ctx.cached<KubeObject>('StorageClass'));
    // A new Pod waits for an immediate-binding home claim to bind when many claims wait (home.ts); a running one is
    // never touched. A claim that does not bind is reported whether the Pod waits or sits unscheduled.
    const holdPod = pod === undefined && desired.pod !== undefined && this.holds(ctx, home);
    const homeCheck = desired.pod === undefined ? {} : this.homeCheck(home, names.home, pod, base.now);
    // A refused lab gets nothing new: no home claim (its storage is what maxTotalHomeSize limits), no Secret,
    // Service or Pod until it is admitted. What an admitted lab already has stays (its Pod is stopped below).
    const { applied, awaitingCache } = quota.admitted
      ? await this.applyChildren(ctx, desired, desiredPod, pvc, pod, tokenExists, holdPod)
      : { applied: new Set<'Secret' | 'Service' | 'NetworkPolicy' | 'Pod'>(), awaitingCache: false };

    const outcome = await this.stopOrCull(ctx, lab, prof, pod, desired, token, resolved);
    const deferred = await this.writeStatus(
      ctx,
      lab,
      statusInputOf(base, {
        quota,
        resolved,
        applied,
        pod,
        outcome,
        homeFailure: homeCheck.failure,
        desiredPod,
      }),
    );
    // Come back for a deferred progress write, a write skipped while the cache catches up, or culling.
    return requeueAfter([
      outcome.requeueAfterMs,
      deferred,
      awaitingCache ? 5_000 : undefined,
      homeCheck.recheckMs,
    ]);
  }

  /**
   * A lab that does not resolve (no profile, an invalid profile, a spec the profile does not offer) gets no
   * child; nothing new can start. A server already running is kept, flagged, until its owner stops it or its
   * maximum lifetime ends (kept.ts): deleting a profile must not kill its users' sessions.
   */
  private async unresolved(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    profile: NotebookProfile | undefined,
    pod: V1Pod | undefined,
    base: Omit<StatusInput, 'applied' | 'pod'>,
    invalid: { reason: string; message: string },
  ): Promise<ReconcileResult | undefined> {
    const limit = keptLimit(profile);
    const decision = keptDecision(lab, pod, limit, base.now);
    let outcome: CullOutcome = { podGone: false };
    if (pod !== undefined && decision !== undefined && limit !== undefined)
      outcome = await this.actOnCulling(ctx, lab, pod, decision, undefined, limit.limits);
    else if (pod !== undefined && !keepsRunning(lab, pod)) outcome = await this.stopPod(ctx, lab, pod);
    const input = unresolvedInputOf(base, invalid, pod, outcome, limit !== undefined);
    return requeueAfter([outcome.requeueAfterMs, await this.writeStatus(ctx, lab, input)]);
  }

  private passedAnnotations(lab: Lab): Record<string, string> {
    const prefixes = this.deps.podAnnotationPrefixes ?? [];
    if (prefixes.length === 0) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(lab.metadata.annotations ?? {})) {
      if (prefixes.some((p) => k.startsWith(p)) && !k.startsWith('skyport.io/')) out[k] = v;
    }
    return out;
  }

  /** A claim not bound in time while the lab's Pod waits for it or sits unscheduled: HomeVolumePending. */
  private homeCheck(
    home: HomeState,
    claim: string,
    pod: V1Pod | undefined,
    now: Date,
  ): ReturnType<typeof homeBindCheck> {
    if (home.kind !== 'waiting' || (pod?.spec?.nodeName ?? '') !== '') return {};
    return homeBindCheck(home, claim, now, this.deps.homeBindTimeoutMs ?? HOME_BIND_TIMEOUT_MS);
  }

  /** Whether a new Pod waits for its claim to bind ({@link holdsPod}), counting the cache's unbound claims. */
  private holds(ctx: ReconcileContext<KubeObject>, home: HomeState): boolean {
    return holdsPod(home, () =>
      unboundClaims(ctx.cached<KubeObject>('PersistentVolumeClaim') as V1PersistentVolumeClaim[]),
    );
  }

  /** Which child names the claim check reads: the NetworkPolicy's and the Pod's only when the lab will write them. */
  private wants(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    prof: NotebookProfile,
    pvc: V1PersistentVolumeClaim | undefined,
  ): { networkPolicy: boolean; pod: boolean } {
    // The Pod's name only once a Pod may be created: not while it waits for its home to bind (a read per event).
    const home = homeState(pvc, prof.spec.home.storageClassName, ctx.cached<KubeObject>('StorageClass'));
    return {
      networkPolicy: prof.spec.network.enabled,
      pod: lab.spec.state === 'Running' && !this.holds(ctx, home),
    };
  }

  /** A new lab's claim-check reads, started before its finalizer write; none for a lab that writes no child now. */
  private prefetch(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    profile: NotebookProfile | undefined,
  ): ClaimClient | undefined {
    const r = resolveWith(lab, profile);
    if ('invalid' in r || !quotaOf(ctx, lab, r.profile, r.resolved.homeBytes).admitted) return undefined;
    const wants = this.wants(ctx, lab, r.profile, ownHome(ctx, lab) as V1PersistentVolumeClaim | undefined);
    return prefetchClaims(this.deps.kube, ctx, lab, wants);
  }

  /**
   * What holds the lab's child names before anything is written ({@link checkClaims}); `done` when this reconcile
   * ends here: leftovers of an earlier namesake are being deleted, or a name is held by someone else's object —
   * then the lab is Failed with `Degraded=NameConflict` (one Warning Event, with the phase change), nothing is
   * written, and it looks again with a growing delay (foreign objects are not watched).
   */
  private async claim(
    ctx: ReconcileContext<KubeObject>,
    base: Omit<StatusInput, 'applied' | 'pod'>,
    prof: NotebookProfile,
    pod: V1Pod | undefined,
    admitted: boolean,
    reads: ClaimClient | undefined,
  ): Promise<ClaimCheck & { done?: ReconcileResult }> {
    const lab = base.lab;
    if (!admitted) return {};
    const wants = this.wants(ctx, lab, prof, base.pvc);
    const uid = lab.metadata.uid ?? '';
    const claim = await checkClaims(reads ?? this.deps.kube, ctx, lab, wants, (k) =>
      this.storage.expected.pending(uid, k),
    );
    if (claim.conflict === undefined)
      return claim.waitMs === undefined ? claim : { done: { requeueAfterMs: claim.waitMs } };
    await this.writeStatus(ctx, lab, {
      ...base,
      invalid: claim.conflict,
      applied: new Set(),
      pod: readPod(pod),
    });
    return { done: { requeueAfterMs: conflictRecheckMs(lab.status?.conditions, base.now) } };
  }

  /**
   * The lab's token: from the cached Secret, else from the claim check's live read (the cache may lag a create of
   * ours), else a new random one that `applyChildren` creates (never overwrites) — so a token is generated once and
   * kept. `exists` says whether the Secret is already there. A lab the quota refuses writes no Secret and starts no
   * Pod, so it needs no token: no live read for it (a refused lab is reconciled again at every peer's change).
   */
  private token(
    ctx: ReconcileContext<KubeObject>,
    name: string,
    admitted: boolean,
    live: KubeObject | undefined,
  ): { token: string; exists: boolean } {
    const fromSecret = (s: V1Secret | undefined): string | undefined => {
      const b64 = s?.data?.[TOKEN_KEY];
      return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
    };
    const cached = fromSecret(
      ctx.owned<KubeObject>('Secret').find((s) => s.metadata?.name === name) as V1Secret | undefined,
    );
    if (cached !== undefined) return { token: cached, exists: true };
    if (!admitted) return { token: '', exists: false };
    // Read live by the claim check (ours only: a token someone else planted is never used).
    const found = fromSecret(live as V1Secret | undefined);
    return found === undefined ? { token: this.newToken(), exists: false } : { token: found, exists: true };
  }

  /**
   * Applies children in dependency order: the home PVC, token Secret, Service and NetworkPolicy first (in
   * parallel: none needs another), the Pod last — it mounts the PVC and reads the Secret (a Pod created before its
   * Secret fails with CreateContainerConfigError), and must never be reachable before its NetworkPolicy exists.
   * Unchanged children (same spec hash annotation) are not re-applied; an existing Pod is never re-applied, as its
   * spec is immutable — changes take effect at the next start.
   */
  private async applyChildren(
    ctx: ReconcileContext<KubeObject>,
    desired: DesiredChildren,
    desiredPod: KubeObject | undefined,
    pvc: V1PersistentVolumeClaim | undefined,
    pod: V1Pod | undefined,
    tokenExists: boolean,
    holdPod: boolean,
  ): Promise<{ applied: Set<'Secret' | 'Service' | 'NetworkPolicy' | 'Pod'>; awaitingCache: boolean }> {
    const store = this.storage;
    const applied = new Set<'Secret' | 'Service' | 'NetworkPolicy' | 'Pod'>();
    const owned = (kind: string, name: string | undefined): KubeObject | undefined =>
      ctx.owned<KubeObject>(kind).find((o) => o.metadata?.name === name);

    // Independent writes go out together; the Pod waits for all of them (see the ordering above).
    const uid = ctx.object?.metadata?.uid ?? '';
    const run = { awaitingCache: false };
    const home = withHash(desired.home);
    const applyHome = async (): Promise<void> => {
      // A stopped lab without a home (created Stopped) provisions none until it first starts.
      if (pvc === undefined && desired.pod === undefined) return;
      if (await store.applyChild(uid, home, pvc === undefined ? undefined : pvc, run))
        ctx.log.info({ pvc: home.metadata?.name }, 'Applied home PersistentVolumeClaim');
    };
    const createToken = async (): Promise<void> => {
      if (tokenExists) return;
      await store.createToken(desired.token);
      ctx.log.info({ secret: desired.token.metadata?.name }, 'Created token Secret');
    };
    const svc = withHash(desired.service);
    const npName = labNames(ctx.key.name).networkPolicy;
    const applyPolicy = async (): Promise<void> => {
      if (desired.networkPolicy !== undefined)
        await store.applyChild(uid, withHash(desired.networkPolicy), owned('NetworkPolicy', npName), run);
      else if (owned('NetworkPolicy', npName) !== undefined)
        await store.deleteNetworkPolicy(ctx.key.namespace ?? 'default', npName);
    };
    await Promise.all([
      applyHome(),
      createToken(),
      store.applyChild(uid, svc, owned('Service', svc.metadata?.name), run),
      applyPolicy(),
    ]);
    applied.add('Secret');
    applied.add('Service');
    if (desired.networkPolicy !== undefined) applied.add('NetworkPolicy');
    const podObj = holdPod ? undefined : desiredPod;
    if (podObj !== undefined) {
      // The step's timestamp in status.progress records the creation; no Event.
      const done = await store.createPod(uid, podObj, pod === undefined ? undefined : pod, run);
      if (done === 'created') ctx.log.info({ pod: podObj.metadata?.name }, 'Created lab Pod');
      else if (done === 'exists') ctx.log.debug({ pod: podObj.metadata?.name }, 'Lab Pod already exists');
    }
    if (podObj !== undefined || pod !== undefined) applied.add('Pod');
    return { applied, awaitingCache: run.awaitingCache };
  }

  /** Stops the Pod of a stopped or refused lab, or polls activity and warns or culls a running one. */
  private async stopOrCull(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    profile: NotebookProfile,
    pod: V1Pod | undefined,
    desired: DesiredChildren,
    token: string,
    resolved: ResolvedLab,
  ): Promise<CullOutcome> {
    if (pod === undefined) return { podGone: false };
    if (desired.pod === undefined) return this.stopPod(ctx, lab, pod);
    const policy = cullingPolicy(profile);
    if (policy === undefined || readPod(pod).stage !== 'Ready') return { podGone: false };
    const { lastActivity, freshness } = this.lastActivity(ctx, lab, token, resolved);
    const startedAt = new Date(pod.metadata?.creationTimestamp ?? this.now().toISOString());
    const decision = decideCulling(policy, startedAt, lastActivity, this.now(), freshness);
    return this.actOnCulling(ctx, lab, pod, decision, lastActivity, profile.spec.culling);
  }

  /** Culls, warns (once) or schedules the next check of a running lab, as `decision` says. */
  private async actOnCulling(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    pod: V1Pod,
    decision: CullDecision,
    lastActivity: Date | undefined,
    limits: { idleTimeout: string; maxLifetime: string },
  ): Promise<CullOutcome> {
    const cullingOut = lastActivity === undefined ? { decision } : { decision, lastActivity };
    if (decision.action === 'cull')
      return { ...(await this.cull(ctx, lab, limits, pod, decision, lastActivity)), culling: cullingOut };
    const warned = lab.status?.conditions?.find((c) => c.type === IDLE_WARNING)?.status === 'True';
    if (decision.action === 'warn' && !warned) {
      const at = decision.cullAt?.toISOString() ?? '';
      void this.deps.events.warning(
        lab,
        'IdleWarning',
        `Lab will be stopped at ${at} unless there is activity`,
      );
    }
    const next = Math.min(decision.nextCheckMs ?? this.checkMs, this.checkMs);
    return { podGone: false, culling: cullingOut, requeueAfterMs: Math.max(next, 1000) };
  }

  /**
   * Deletes the Pod of a stopped (or refused) lab; a user stop is recorded once, a cull keeps its own reason. A lab
   * still meant to run that gets here was refused by its quota (the admin lowered a limit): that stop is the
   * operator's, recorded as `QuotaExceeded`.
   */
  private async stopPod(ctx: ReconcileContext<KubeObject>, lab: Lab, pod: V1Pod): Promise<CullOutcome> {
    this.activity.forget({ namespace: lab.metadata.namespace ?? 'default', name: lab.metadata.name ?? '' });
    await this.storage.deletePod(lab, pod);
    if (keepsRunning(lab, pod)) {
      ctx.log.info('Stopped lab refused by its quota, home volume kept');
      return { podGone: false, stoppedBy: QUOTA_STOP };
    }
    const prev = lab.status?.lastTermination;
    const culled =
      prev !== undefined &&
      (prev.reason === 'Culled' || prev.reason === 'MaxLifetime') &&
      prev.at >= (pod.metadata?.creationTimestamp ?? '');
    if (lab.spec.state !== 'Stopped' || culled || pod.metadata?.deletionTimestamp !== undefined)
      return { podGone: false };
    ctx.log.info('Stopped lab, home volume kept');
    void this.deps.events.normal(lab, 'Stopped', 'Deleted the lab Pod; the home volume is kept');
    return {
      podGone: false,
      stoppedBy: { reason: 'User', message: 'Stopped by setting spec.state to Stopped' },
    };
  }

  /** The newer of the recorded and the last reported activity, and how fresh that report is. Never waits. */
  private lastActivity(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    token: string,
    resolved: ResolvedLab,
  ): { lastActivity: Date | undefined; freshness: ActivityFreshness } {
    const reading = this.activity.read(activityTarget(lab, resolved.basePath, token));
    if (reading.failure !== undefined) ctx.log.debug({ reason: reading.failure }, 'Lab activity unknown');
    const recorded = lab.status?.lastActivity === undefined ? undefined : new Date(lab.status.lastActivity);
    const reported = reading.activity?.lastActivity;
    const last =
      recorded === undefined || (reported !== undefined && reported > recorded) ? reported : recorded;
    return { lastActivity: last, freshness: reading.freshness };
  }

  /** Cull = `spec.state: Stopped` (the lab stays stopped and the user sees why) and the Pod deleted; home kept. */
  private async cull(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    limits: { idleTimeout: string; maxLifetime: string },
    pod: V1Pod,
    decision: CullDecision,
    lastActivity: Date | undefined,
  ): Promise<CullOutcome> {
    const why = decision.reason === 'MaxLifetime' ? 'MaxLifetime' : 'Culled';
    const message =
      why === 'MaxLifetime'
        ? `Stopped after its maximum lifetime of ${limits.maxLifetime}`
        : `Stopped after ${limits.idleTimeout} without activity (last activity ${lastActivity?.toISOString() ?? 'never'})`;
    await this.storage.markStopped(lab);
    await this.storage.deletePod(lab, pod);
    ctx.log.info({ reason: why }, 'Culled lab');
    void this.deps.events.normal(lab, why === 'MaxLifetime' ? 'MaxLifetimeReached' : 'Culled', message);
    return { podGone: true, stoppedBy: { reason: why, message } };
  }

  /** Deletion: stop the Pod, apply the home retain policy, then release the finalizer. */
  private async finalize(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    profile: NotebookProfile | undefined,
  ): Promise<undefined> {
    if (!(lab.metadata.finalizers ?? []).includes(HOME_FINALIZER)) return undefined;
    const names = labNames(lab.metadata.name ?? '');
    // End the session now rather than when the garbage collector gets to it: the collector only notices a
    // deleted owner once it watches the owner's kind (up to its discovery resync after the CRD appears), and a
    // Delete-policy home PVC stays in use (pvc-protection) for as long as the Pod exists.
    // Only the lab's own: a Pod or claim of someone else's under these names is left alone (ownership.ts).
    if (await deleteOwnChild(this.deps.kube, ctx, lab, 'Pod'))
      ctx.log.info({ pod: names.pod }, 'Deleted lab Pod');
    const policy = profile?.spec.home.retainPolicy ?? 'Retain';
    if (policy === 'Delete') {
      if (await deleteOwnChild(this.deps.kube, ctx, lab, 'PersistentVolumeClaim'))
        ctx.log.info({ pvc: names.home }, 'Deleted home PersistentVolumeClaim');
    } else {
      ctx.log.info({ pvc: names.home }, 'Kept home PersistentVolumeClaim');
    }
    await this.storage.removeFinalizer(lab);
    this.activity.forget({ namespace: lab.metadata.namespace ?? 'default', name: lab.metadata.name ?? '' });
    this.status.forget(lab.metadata.uid ?? '');
    this.storage.expected.forget(lab.metadata.uid ?? '');
    return undefined;
  }

  /** Writes the status if it changed; returns ms until a deferred progress-only write is due, if any. */
  private async writeStatus(
    ctx: ReconcileContext<KubeObject>,
    lab: Lab,
    input: StatusInput,
  ): Promise<number | undefined> {
    const held = this.status.held(lab.metadata.uid ?? '');
    const next = computeStatus(
      held === undefined ? input : { ...input, lab: { ...input.lab, status: held } },
    );
    const prev = lab.status;
    const w = await this.status.write(lab, next);
    if (!w.wrote) return w.retryInMs;
    // A kept lab runs on, so no phase change announces its problem: one Warning per new Degraded reason does.
    const flagged = input.kept === undefined ? undefined : newlyDegraded(prev, next);
    if (flagged !== undefined) void this.deps.events.warning(lab, flagged.reason, flagged.message);
    const pending = next.conditions?.find((c) => c.type === UPDATE_PENDING && c.status === 'True');
    if (
      pending !== undefined &&
      !prev?.conditions?.some((c) => c.type === UPDATE_PENDING && c.status === 'True')
    )
      void this.deps.events.normal(lab, UPDATE_PENDING, pending.message);
    if (prev?.phase !== next.phase) {
      ctx.log.info({ phase: next.phase, from: prev?.phase }, 'Changed phase');
      const degraded = next.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
      if (next.phase === 'Running')
        void this.deps.events.normal(lab, 'Ready', `Lab is ready at ${next.url ?? ''}`);
      else if (next.phase === 'Failed' && degraded !== undefined)
        void this.deps.events.warning(lab, degraded.reason, degraded.message);
    }
    return undefined;
  }

  async recordTerminal(ctx: ReconcileContext<Lab>, err: TerminalError): Promise<void> {
    if (ctx.object === undefined) return;
    const lab = ctx.object;
    await this.writeStatus(ctx, lab, {
      lab,
      now: this.now(),
      pvc: undefined,
      invalid: { reason: err.code, message: terminalMessage(err.code, err.message, lab.spec.profile) },
      applied: new Set(),
      pod: readPod(undefined),
    });
  }
}
