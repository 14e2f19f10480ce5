// Decoded models for in-process (online) scoring; models are immutable, so a cached copy never goes stale.

import { decodeModel, type Model } from '../engine/index.js';
import type { ModelMeta, Store } from '../store/store.js';
import { notFound } from './errors.js';

/** A decoded model and its metadata. */
export interface LoadedModel {
  readonly model: Model;
  readonly meta: ModelMeta;
}

/** LRU cache of decoded models keyed by tenant and id. */
export class ModelCache {
  private readonly entries = new Map<string, LoadedModel>();

  constructor(
    private readonly store: Store,
    private readonly capacity = 16,
  ) {}

  /** Returns the tenant's model or throws 404 (also for another tenant's model). */
  async get(tenant: string, id: string): Promise<LoadedModel> {
    const key = `${tenant}/${id}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const meta = await this.store.getModelMeta(tenant, id);
    const bytes = meta === null ? null : await this.store.getModelContent(tenant, meta);
    if (meta === null || bytes === null) throw notFound('model', id);
    const loaded: LoadedModel = { model: decodeModel(new Uint8Array(bytes)), meta };
    this.entries.set(key, loaded);
    while (this.entries.size > this.capacity) {
      const first = this.entries.keys().next();
      if (first.done) break;
      this.entries.delete(first.value);
    }
    return loaded;
  }
}
