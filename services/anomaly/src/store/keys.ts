// Redis key names in one place: every key is scoped by deployment prefix and tenant, so tenants cannot collide.

/** Builds the key names of one deployment (one `KEY_PREFIX`). */
export class Keys {
  constructor(readonly prefix: string) {}

  private t(tenant: string): string {
    return `${this.prefix}:t:${tenant}`;
  }
  datasetIndex(tenant: string): string {
    return `${this.t(tenant)}:datasets`;
  }
  dataset(tenant: string, id: string): string {
    return `${this.t(tenant)}:ds:${id}`;
  }
  /** One binary float64 row-major chunk of a dataset. */
  datasetChunk(tenant: string, id: string, i: number): string {
    return `${this.t(tenant)}:ds:${id}:chunk:${i}`;
  }
  modelIndex(tenant: string): string {
    return `${this.t(tenant)}:models`;
  }
  /** Encoded model bytes, keyed by content hash (immutable; shared by the records of equal forests). */
  model(tenant: string, id: string): string {
    return `${this.t(tenant)}:model:${id}`;
  }
  /** A model record, by record id. */
  modelMeta(tenant: string, id: string): string {
    return `${this.t(tenant)}:model:${id}:meta`;
  }
  /** Per-name version counter (a model name gets version 1, 2, … as it is refitted). */
  modelVersions(tenant: string): string {
    return `${this.t(tenant)}:model-versions`;
  }
  /** Sorted set of a tenant's job ids by creation time (ms), for listing; entries past the job TTL are pruned. */
  jobIndex(tenant: string): string {
    return `${this.t(tenant)}:jobs`;
  }
  job(tenant: string, id: string): string {
    return `${this.t(tenant)}:job:${id}`;
  }
  /** Output of task i of a job (tree block or chunk scores), written with SET so redelivery rewrites it. */
  jobChunk(tenant: string, id: string, i: number): string {
    return `${this.t(tenant)}:job:${id}:chunk:${i}`;
  }
  /** Set of finished task indices; SADD makes a duplicate delivery count once. */
  jobDone(tenant: string, id: string): string {
    return `${this.t(tenant)}:job:${id}:done`;
  }
  /** Hash chunk index → number of points at or above the threshold. */
  jobFlagged(tenant: string, id: string): string {
    return `${this.t(tenant)}:job:${id}:flagged`;
  }
  webhooks(tenant: string, modelId: string): string {
    return `${this.t(tenant)}:hooks:${modelId}`;
  }
  /** One stream of alerts for all tenants (webhook dispatchers form a consumer group on it). */
  alertStream(): string {
    return `${this.prefix}:alerts`;
  }
  /** A model's most recent alerts, for SSE clients that reconnect with Last-Event-ID. */
  recentAlerts(tenant: string, modelId: string): string {
    return `${this.t(tenant)}:recent-alerts:${modelId}`;
  }
  /** Pub/sub channel for live SSE subscribers of one model. */
  alertChannel(tenant: string, modelId: string): string {
    return `${this.prefix}:alerts:${tenant}:${modelId}`;
  }
  /** BullMQ key prefix. */
  bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}

/** The BullMQ queue every task type shares. */
export const TASK_QUEUE = 'anomaly-tasks';
