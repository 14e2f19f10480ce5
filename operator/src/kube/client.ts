// The only code that calls Kubernetes: raw JSON requests with client-node's auth over our own transport (http.ts).
import {
  ApiException,
  createConfiguration,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  type Configuration,
  type KubernetesObject,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { KubeObject } from '../api/object.js';
import { MANAGER } from '../meta/labels.js';
import { isNotFound, mapKubeError } from './errors.js';
import { nodeHttpLibrary, openWatch } from './http.js';
import { shareKeepAliveAgents } from './keepalive.js';

export type { KubeObject, ObjectMeta, OwnerReference, Json } from '../api/object.js';

/** Identifies one object by group-version-kind and name. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** A page-merged list result. */
export interface ListResult<T> {
  items: T[];
  /** The list's resourceVersion: start a watch from here. */
  resourceVersion: string;
}

/** Options for list and watch. */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One watch event as the apiserver sends it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** A running watch; `stop()` closes the connection without calling `onDone`'s error path. */
export interface WatchHandle {
  stop(): void;
}

/** Options of {@link Kube.fromConfig}. */
export interface KubeOptions {
  /** Kubeconfig path; default: in-cluster, else KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string | undefined;
  /** An already loaded KubeConfig (wins over `kubeconfig`). */
  kubeConfig?: KubeConfig;
  /** Field manager for server-side apply (default `skyport-operator`). */
  fieldManager?: string;
  /** Sockets of the shared keep-alive agent per apiserver (default 64) for requests; each watch has a connection of its own. */
  maxSockets?: number;
}

/** Options of {@link Kube.applyStatus}. */
export interface StatusOptions {
  /** `apply` (server-side apply, default) or `merge` (JSON merge patch). */
  strategy?: 'apply' | 'merge';
}

/** Exposes the protected request plumbing of KubernetesObjectApi so every call returns raw JSON. */
class RawObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration) {
    super(configuration);
  }

  static make(kc: KubeConfig): RawObjectApi {
    // As kc.makeApiClient, with our transport instead of client-node's node-fetch one.
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const api = new RawObjectApi(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: kc },
        httpApi: nodeHttpLibrary(),
      }),
    );
    api.setDefaultNamespace(kc);
    return api;
  }

  /** URL path of the object (with `name`) or the collection (without). */
  async pathFor(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name?: string,
  ): Promise<string> {
    const resource = await this.resource(apiVersion, kind);
    if (resource === undefined)
      throw new Error(`unknown kind ${kind} in ${apiVersion} (is the CRD installed?)`);
    let path = this.apiVersionPath(apiVersion);
    if (resource.namespaced) {
      if (namespace !== undefined && namespace !== '') path += `/namespaces/${encodeURIComponent(namespace)}`;
    }
    path += `/${resource.name}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    return path;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    const resource = await this.resource(apiVersion, kind);
    if (resource === undefined)
      throw new Error(`unknown kind ${kind} in ${apiVersion} (is the CRD installed?)`);
    return resource.namespaced;
  }

  async raw<T>(
    method: HttpMethod,
    path: string,
    query: Record<string, string | undefined> = {},
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const ctx: RequestContext = this.configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, v);
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(JSON.stringify(body));
    }
    return this.requestPromise(ctx) as Promise<T>;
  }

  // Keep responses as the apiserver's JSON: the model classes turn times into Dates and drop unknown fields.
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
  ): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return (text === '' ? {} : JSON.parse(text)) as T;
    }
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', text, response.headers);
  }
}

function describe(
  ref: { kind?: string; metadata?: { name?: string; namespace?: string } } | ObjectRef,
): string {
  const name = 'metadata' in ref && ref.metadata !== undefined ? ref.metadata.name : (ref as ObjectRef).name;
  const ns =
    'metadata' in ref && ref.metadata !== undefined ? ref.metadata.namespace : (ref as ObjectRef).namespace;
  return `${ref.kind ?? '?'} ${ns === undefined ? '' : `${ns}/`}${name ?? '?'}`;
}

function requireGvk(obj: KubeObject): {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
} {
  if (obj.apiVersion === undefined || obj.kind === undefined || obj.metadata?.name === undefined) {
    throw new Error('object needs apiVersion, kind and metadata.name');
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
  };
}

/**
 * The Kubernetes client for the whole operator. Writes go through server-side apply with one field
 * manager and `force: true` (we own what we declare); status only through `/status`; reads return
 * `undefined` on 404. Failures are mapped to TransientError / TerminalError ({@link mapKubeError}).
 */
export class Kube {
  readonly kc: KubeConfig;
  readonly fieldManager: string;
  private readonly api: RawObjectApi;

  constructor(kc: KubeConfig, fieldManager = MANAGER) {
    this.kc = kc;
    this.fieldManager = fieldManager;
    this.api = RawObjectApi.make(kc);
  }

  /** Builds a client from a kubeconfig path, an existing KubeConfig, in-cluster config or the defaults. */
  static fromConfig(opts: KubeOptions = {}): Kube {
    let kc = opts.kubeConfig;
    if (kc === undefined) {
      kc = new KubeConfig();
      if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
      else kc.loadFromDefault();
    }
    shareKeepAliveAgents(kc, opts.maxSockets ?? 64);
    return new Kube(kc, opts.fieldManager);
  }

  /** The apiserver URL of the current context. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** The URL path of an object or, without `name`, of its collection (resolved through discovery). */
  pathFor(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    return this.api.pathFor(apiVersion, kind, namespace, name);
  }

  /** True when the kind is namespaced (discovery, cached). */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return this.api.isNamespaced(apiVersion, kind);
  }

  /**
   * Server-side applies `obj` (any GVK) with this client's field manager and `force: true`.
   * Send only the fields you own: fields you applied before and leave out are removed.
   */
  async apply<T extends KubeObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T & KubeObject> {
    const { apiVersion, kind, name, namespace } = requireGvk(obj);
    try {
      const path = await this.api.pathFor(apiVersion, kind, namespace, name);
      // managedFields and resourceVersion in an apply body would pin ownership or add a precondition.
      const body = stripServerFields(obj);
      return await this.api.raw<T>(
        HttpMethod.PATCH,
        path,
        { fieldManager: this.fieldManager, force: 'true', dryRun: opts.dryRun === true ? 'All' : undefined },
        body,
        PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw mapKubeError(err, `apply ${describe(obj)}`);
    }
  }

  /**
   * Writes `status` through the `/status` subresource of the custom resource `cr` (namespaced or cluster
   * scoped). Server-side apply by default (same field manager, force), or a JSON merge patch.
   */
  async applyStatus<T extends KubeObject>(
    cr: KubeObject,
    status: unknown,
    opts: StatusOptions = {},
  ): Promise<T> {
    const { apiVersion, kind, name, namespace } = requireGvk(cr);
    try {
      const path = `${await this.api.pathFor(apiVersion, kind, namespace, name)}/status`;
      if (opts.strategy === 'merge') {
        return await this.api.raw<T>(
          HttpMethod.PATCH,
          path,
          { fieldManager: this.fieldManager },
          { status },
          PatchStrategy.MergePatch,
        );
      }
      const metadata = namespace === undefined ? { name } : { name, namespace };
      return await this.api.raw<T>(
        HttpMethod.PATCH,
        path,
        { fieldManager: this.fieldManager, force: 'true' },
        { apiVersion, kind, metadata, status },
        PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw mapKubeError(err, `apply status of ${describe(cr)}`);
    }
  }

  /** Reads one object; `undefined` when it does not exist. */
  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.api.raw<T>(
        HttpMethod.GET,
        await this.api.pathFor(ref.apiVersion, ref.kind, ref.namespace, ref.name),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapKubeError(err, `get ${describe(ref)}`);
    }
  }

  /** Lists objects (all pages; 500 per page), filling in each item's apiVersion and kind. */
  async list<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    opts: ListOptions = {},
  ): Promise<ListResult<T>> {
    try {
      const path = await this.api.pathFor(apiVersion, kind, opts.namespace);
      const items: T[] = [];
      let cont: string | undefined;
      let resourceVersion = '';
      do {
        const page = await this.api.raw<{
          items?: T[];
          metadata?: { continue?: string; resourceVersion?: string };
        }>(HttpMethod.GET, path, {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: '500',
          continue: cont,
        });
        for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
        cont = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      } while (cont !== undefined);
      return { items, resourceVersion };
    } catch (err) {
      throw mapKubeError(err, `list ${kind} ${opts.namespace ?? '(all namespaces)'}`);
    }
  }

  /** Creates an object (POST). A 409 AlreadyExists maps to TransientError `Conflict`. */
  async create<T extends KubeObject>(obj: T): Promise<T & KubeObject> {
    const { apiVersion, kind, namespace } = requireGvk(obj);
    try {
      return await this.api.raw<T>(
        HttpMethod.POST,
        await this.api.pathFor(apiVersion, kind, namespace),
        { fieldManager: this.fieldManager },
        obj,
      );
    } catch (err) {
      throw mapKubeError(err, `create ${describe(obj)}`);
    }
  }

  /**
   * Replaces an object (PUT). With `metadata.resourceVersion` set this is a compare-and-swap: a concurrent
   * write makes it fail with TransientError `Conflict`.
   */
  async replace<T extends KubeObject>(obj: T): Promise<T & KubeObject> {
    const { apiVersion, kind, name, namespace } = requireGvk(obj);
    try {
      return await this.api.raw<T>(
        HttpMethod.PUT,
        await this.api.pathFor(apiVersion, kind, namespace, name),
        { fieldManager: this.fieldManager },
        obj,
      );
    } catch (err) {
      throw mapKubeError(err, `replace ${describe(obj)}`);
    }
  }

  /** JSON-merge-patches an object (not for owned children: use {@link apply}). */
  async mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown): Promise<T | undefined> {
    try {
      const path = await this.api.pathFor(ref.apiVersion, ref.kind, ref.namespace, ref.name);
      return await this.api.raw<T>(
        HttpMethod.PATCH,
        path,
        { fieldManager: this.fieldManager },
        patch,
        PatchStrategy.MergePatch,
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapKubeError(err, `patch ${describe(ref)}`);
    }
  }

  /**
   * Deletes an object (background propagation by default). Returns `false` when it did not exist.
   * With `uid`, only that incarnation is deleted (a precondition), never a re-created namesake.
   */
  async delete(
    ref: ObjectRef,
    opts: {
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
      uid?: string;
      gracePeriodSeconds?: number;
    } = {},
  ): Promise<boolean> {
    try {
      const body: Record<string, unknown> = {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: opts.propagationPolicy ?? 'Background',
      };
      if (opts.uid !== undefined) body.preconditions = { uid: opts.uid };
      if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
      await this.api.raw(
        HttpMethod.DELETE,
        await this.api.pathFor(ref.apiVersion, ref.kind, ref.namespace, ref.name),
        {},
        body,
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw mapKubeError(err, `delete ${describe(ref)}`);
    }
  }

  /**
   * Adds `finalizer` to `obj` unless present, guarded by `obj.metadata.resourceVersion` (a stale object
   * fails with TransientError `Conflict`, so the next reconcile sees fresh state). Returns the updated
   * object, `obj` itself when nothing changed, or `undefined` when it no longer exists.
   */
  async addFinalizer<T extends KubeObject>(obj: T, finalizer: string): Promise<T | undefined> {
    const current = obj.metadata?.finalizers ?? [];
    if (current.includes(finalizer)) return obj;
    return this.setFinalizers(obj, [...current, finalizer]);
  }

  /** Removes `finalizer` from `obj` if present, with the same resourceVersion guard as {@link addFinalizer}. */
  async removeFinalizer<T extends KubeObject>(obj: T, finalizer: string): Promise<T | undefined> {
    const current = obj.metadata?.finalizers ?? [];
    if (!current.includes(finalizer)) return obj;
    return this.setFinalizers(
      obj,
      current.filter((f) => f !== finalizer),
    );
  }

  private async setFinalizers<T extends KubeObject>(obj: T, finalizers: string[]): Promise<T | undefined> {
    const { apiVersion, kind, name, namespace } = requireGvk(obj);
    const rv = obj.metadata?.resourceVersion;
    if (rv === undefined)
      throw new Error(`finalizer update on ${describe(obj)} needs metadata.resourceVersion`);
    // A resourceVersion inside a merge patch is a precondition: the apiserver answers 409 if it moved on.
    const patch = { metadata: { resourceVersion: rv, finalizers } };
    const ref: ObjectRef =
      namespace === undefined ? { apiVersion, kind, name } : { apiVersion, kind, name, namespace };
    return this.mergePatch<T>(ref, patch);
  }

  /**
   * Starts a watch on a collection from `resourceVersion`, with bookmarks. `onEvent` receives each
   * event (including `ERROR` events such as 410 Gone); `onDone` is called once when the stream ends, with the
   * error if it failed (`null` on a clean close). The informer in `runtime/` builds restart logic on this.
   */
  async watch(
    apiVersion: string,
    kind: string,
    opts: ListOptions & { resourceVersion?: string; timeoutSeconds?: number },
    onEvent: (event: WatchEvent) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle> {
    const path = await this.api.pathFor(apiVersion, kind, opts.namespace);
    const url = new URL(this.server + path);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    if (opts.resourceVersion !== undefined) url.searchParams.set('resourceVersion', opts.resourceVersion);
    if (opts.timeoutSeconds !== undefined)
      url.searchParams.set('timeoutSeconds', String(opts.timeoutSeconds));
    if (opts.labelSelector !== undefined) url.searchParams.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector !== undefined) url.searchParams.set('fieldSelector', opts.fieldSelector);
    return openWatch(
      this.kc,
      url.toString(),
      ({ type, object }) => {
        const o = object as KubeObject;
        if (type === 'ERROR' || type === 'BOOKMARK') onEvent({ type, object: o });
        else onEvent({ type: type as WatchEvent['type'], object: { ...o, apiVersion, kind } });
      },
      onDone,
    );
  }
}

/** Removes server-populated metadata that must not appear in an apply body. */
function stripServerFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata === undefined) return obj;
  const {
    managedFields: _m,
    resourceVersion: _r,
    uid: _u,
    creationTimestamp: _c,
    generation: _g,
    ...metadata
  } = obj.metadata;
  return { ...obj, metadata };
}
