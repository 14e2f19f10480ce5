// One AnomalyService reconcile, in order (nublado's service layer): tokens, Redis, API, workers, budgets and
// policies; then, once the API answers, the pool status, the autoscaling decision and the status.
import { randomBytes } from 'node:crypto';
import type { AnomalyService, AnomalyServiceStatus } from '../../api/v1alpha1/index.js';
import { errorMessage } from '../../errors.js';
import type { EventRecorder } from '../../kube/events.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { Expectations, StatusWriter, withHash, type ReconcileContext } from '../../runtime/index.js';
import type { ReconcileResult } from '../../runtime/index.js';
import { AutoscaleError, type ScalingDecision } from './autoscale.js';
import { buildChildren, type DesiredChildren } from './build.js';
import { anomalyNames, apiUrl, type BuildContext } from './names.js';
import { firstToken, PoolStatusError, type PoolStatus, type PoolStatusFetcher } from './poolstatus.js';
import { Scaler } from './scaler.js';
import { anomalyStatus, sameStatus, type StatusInputs } from './status.js';
import { AnomalyStorage, type WriteRun } from './storage.js';

/** What the reconciler needs; `fetchStatus` and `now` are injectable (tests serve /v1/status, drive the clock). */
export interface AnomalyServiceDeps {
  kube: Kube;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  build: Omit<BuildContext, 'token'>;
  fetchStatus: PoolStatusFetcher;
  /** How often the pool status is read (ms): the requeue interval. */
  statusIntervalMs: number;
  /** `{namespace} {name} {service}` → the /v1/status URL; empty: `<status.url>/v1/status`. */
  statusUrlTemplate: string;
  now?: () => number;
}

type Ctx = ReconcileContext<AnomalyService>;

/**
 * The status URL of a service: the template filled in, or the in-cluster API URL. `clusterIP` is the API Service's
 * (undefined while it has none): a template naming `{clusterIP}` then has no URL yet (PoolStatusError).
 */
export function statusUrl(svc: AnomalyService, template: string, clusterIP?: string): string {
  if (template === '') return `${apiUrl(svc)}/v1/status`;
  const service = anomalyNames(svc.metadata.name ?? '').api;
  if (
    template.includes('{clusterIP}') &&
    (clusterIP === undefined || clusterIP === '' || clusterIP === 'None')
  )
    throw new PoolStatusError(`Service ${service} has no cluster IP yet`);
  const vars: Record<string, string> = {
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name ?? '',
    service,
    clusterIP: clusterIP ?? '',
  };
  return template.replace(/\{(namespace|name|service|clusterIP)\}/g, (_m, k: string) => {
    const v = vars[k] ?? '';
    // An IPv6 address goes in brackets in a URL's host.
    return k === 'clusterIP' && v.includes(':') ? `[${v}]` : encodeURIComponent(v);
  });
}

function secretValue(secret: KubeObject | undefined, key: string): string | undefined {
  const data = secret?.['data'] as Record<string, string> | undefined;
  const b64 = data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

const readyCount = (o: KubeObject | undefined): number =>
  (o?.['status'] as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;

/** Reconciles AnomalyServices; one instance per controller. */
export class AnomalyReconciler {
  readonly storage: AnomalyStorage;
  readonly status: StatusWriter<AnomalyServiceStatus>;
  private readonly scaler = new Scaler();
  private readonly now: () => number;

  constructor(private readonly deps: AnomalyServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.storage = new AnomalyStorage(deps.kube, new Expectations({ clock: this.now }));
    this.status = new StatusWriter<AnomalyServiceStatus>({ kube: deps.kube, same: sameStatus });
  }

  async reconcile(ctx: Ctx): Promise<ReconcileResult | undefined> {
    const cached = ctx.object;
    if (cached === undefined || cached.metadata.deletionTimestamp !== undefined) {
      // Children go with it through their ownerReferences (the garbage collector).
      if (cached?.metadata.uid !== undefined) this.forget(cached.metadata.uid);
      return undefined;
    }
    const svc = this.status.fresh(cached);
    const names = anomalyNames(svc.metadata.name ?? '');
    const owned = <T extends KubeObject>(kind: string, name: string): T | undefined =>
      ctx.owned<T>(kind).find((o) => o.metadata?.name === name);
    const run: WriteRun = { awaitingCache: false };

    const desired = buildChildren(svc, { ...this.deps.build, token: randomBytes(24).toString('hex') });
    await this.applyChildren(ctx, svc, desired, owned, run);

    const api = owned('Deployment', names.api);
    const workers = owned('Deployment', names.workers);
    const inputs: StatusInputs = {
      svc,
      redis: owned('StatefulSet', names.redis),
      api,
      workers,
      from: svc.spec.workers.replicas,
      now: new Date(this.now()),
    };
    if (readyCount(api) >= 1) Object.assign(inputs, await this.observe(ctx, svc, names.tokens));
    const w = await this.status.write(svc, anomalyStatus(inputs));
    if (w.wrote) ctx.log.debug({ queueDepth: inputs.pool }, 'Updated AnomalyService status');
    if (run.awaitingCache) return { requeueAfterMs: 1000 };
    return { requeueAfterMs: this.deps.statusIntervalMs };
  }

  /**
   * Order: the tokens Secret and Redis first (the API and workers read both when they start: a missing Secret
   * stops the Pod at CreateContainerConfigError, a missing Redis makes them restart), then the API, the workers,
   * their budgets and policies.
   */
  private async applyChildren(
    ctx: Ctx,
    svc: AnomalyService,
    d: DesiredChildren,
    owned: (kind: string, name: string) => KubeObject | undefined,
    run: WriteRun,
  ): Promise<void> {
    const uid = svc.metadata.uid ?? '';
    if (d.tokens !== undefined && owned('Secret', d.tokens.metadata?.name ?? '') === undefined) {
      const key = `Secret/${d.tokens.metadata?.name ?? ''}`;
      if (!this.storage.expected.pending(uid, key)) {
        const outcome = await this.storage.createTokens(d.tokens);
        this.storage.expected.wrote(uid, key, d.tokens);
        if (outcome === 'created') ctx.log.info({ secret: d.tokens.metadata?.name }, 'Created tokens Secret');
      }
    }
    const children = [
      d.redisService,
      d.redisStatefulSet,
      d.apiDeployment,
      d.apiService,
      d.workerDeployment,
      ...d.podDisruptionBudgets,
      ...d.networkPolicies,
    ].filter((o): o is KubeObject => o !== undefined);
    for (const child of children) {
      const hashed = withHash(child);
      const wrote = await this.storage.applyChild(
        uid,
        hashed,
        owned(child.kind ?? '', child.metadata?.name ?? ''),
        run,
      );
      if (wrote)
        ctx.log.info({ kind: child.kind, child: child.metadata?.name }, `Applied ${child.kind ?? ''}`);
    }
  }

  /** Reads the pool status with the API token and, with spec.autoscaling, decides and sets the worker replicas. */
  private async observe(
    ctx: Ctx,
    svc: AnomalyService,
    generatedTokens: string,
  ): Promise<Pick<StatusInputs, 'pool' | 'decision'>> {
    let status: PoolStatus;
    try {
      const token = await this.token(ctx, svc, generatedTokens);
      const api = ctx
        .owned<KubeObject>('Service')
        .find((o) => o.metadata?.name === anomalyNames(svc.metadata.name ?? '').api);
      const ip = (api?.['spec'] as { clusterIP?: string } | undefined)?.clusterIP;
      status = await this.deps.fetchStatus(statusUrl(svc, this.deps.statusUrlTemplate, ip), token);
    } catch (err) {
      if (!(err instanceof PoolStatusError)) throw err;
      await this.deps.events.warning(svc, 'StatusUnreachable', err.message);
      return { pool: { ok: false, error: err.message } };
    }
    const pool = { ok: true as const, status };
    let decision: ScalingDecision | undefined;
    try {
      decision = this.scaler.decide(svc, status.queueDepth, this.now());
    } catch (err) {
      if (!(err instanceof AutoscaleError)) throw err;
      return { pool: { ok: false, error: errorMessage(err) } };
    }
    if (decision === undefined) {
      this.scaler.forget(svc.metadata.uid ?? '');
      return { pool };
    }
    if (decision.replicas !== svc.spec.workers.replicas) {
      await this.storage.setWorkerReplicas(svc, decision.replicas);
      ctx.log.info({ replicas: decision.replicas, reason: decision.reason }, 'Scaled workers');
    }
    if (decision.reason !== 'AtDesired')
      await this.deps.events.normal(svc, decision.reason, decision.message);
    return { pool, decision };
  }

  /** The first token of the tokens Secret (generated: from the cache; the user's: read from the apiserver). */
  private async token(ctx: Ctx, svc: AnomalyService, generatedName: string): Promise<string> {
    const ref = svc.spec.api.tokensSecretRef;
    const secret =
      ref === undefined
        ? ctx.owned('Secret').find((s) => s.metadata?.name === generatedName)
        : await this.storage.readSecret(svc.metadata.namespace ?? 'default', ref.name);
    const where = `Secret ${ref?.name ?? generatedName} key ${ref?.key ?? 'TOKENS'}`;
    const value = secretValue(secret, ref?.key ?? 'TOKENS');
    if (value === undefined) throw new PoolStatusError(`${where} not found`);
    const token = firstToken(value);
    if (token === undefined) throw new PoolStatusError(`${where} holds no tenant=token pair`);
    return token;
  }

  private forget(uid: string): void {
    this.status.forget(uid);
    this.scaler.forget(uid);
    this.storage.expected.forget(uid);
  }
}
