// Measurement helpers shared by the benchmarks: a minimal keep-alive Kubernetes client, per-process CPU from /proc,
// the apiserver's own request counters, and Prometheus text parsing.
import { readFileSync, readdirSync } from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';

/** `--name=N` from the command line: a positive integer, else `def`. */
export function flag(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  const v = a === undefined ? def : Number(a.slice(name.length + 3));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${a ?? ''}`);
  return v;
}

/** A minimal Kubernetes client: client-cert auth from the admin kubeconfig over one keep-alive agent. */
export class MiniClient {
  private readonly agent: https.Agent;
  private readonly server: URL;

  /** `maxSockets`: requests in flight at most (the agent queues the rest). */
  constructor(kubeconfigPath: string, maxSockets: number) {
    const kc = parse(readFileSync(kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const c = kc.clusters[0]?.cluster;
    const u = kc.users[0]?.user;
    if (c === undefined || u === undefined) throw new Error(`${kubeconfigPath}: no cluster or user`);
    const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
    this.server = new URL(c.server);
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: b64(c['certificate-authority-data']),
      cert: b64(u['client-certificate-data']),
      key: b64(u['client-key-data']),
    });
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; text: string }> {
    const r = await this.requestBytes(method, path, body, contentType);
    return { status: r.status, text: r.bytes.toString('utf8') };
  }

  requestBytes(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        {
          host: this.server.hostname,
          port: this.server.port,
          path,
          method,
          agent: this.agent,
          headers: {
            Accept: 'application/json',
            ...(data === undefined
              ? {}
              : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (ch: Buffer) => chunks.push(ch));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  async create(path: string, body: unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.request('POST', path, body);
      if (r.status === 201 || r.status === 200) return;
      // 429/5xx under load: back off and retry, as any client would.
      if ((r.status === 429 || r.status >= 500) && attempt < 10) {
        await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
        continue;
      }
      throw new Error(`POST ${path} → ${r.status}: ${r.text.slice(0, 300)}`);
    }
  }

  /**
   * Follows a watch on `path` (with `?watch=1&…`), calling `onEvent` per event until the server closes the
   * stream or `stop()` is called.
   */
  watch(
    path: string,
    onEvent: (type: string, obj: unknown) => void,
  ): { done: Promise<void>; stop: () => void } {
    let stop = (): void => undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          host: this.server.hostname,
          port: this.server.port,
          path,
          method: 'GET',
          agent: this.agent,
          headers: { Accept: 'application/json' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`watch ${path} → ${res.statusCode ?? 0}`));
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line.trim() === '') continue;
              const ev = JSON.parse(line) as { type: string; object: unknown };
              onEvent(ev.type, ev.object);
            }
          });
          res.on('end', () => resolve());
          res.on('close', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', reject);
      req.end();
      stop = () => req.destroy();
    });
    return { done, stop: () => stop() };
  }

  async list<T>(path: string): Promise<T[]> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}: ${r.text.slice(0, 300)}`);
    return (JSON.parse(r.text) as { items: T[] }).items;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/** Requests the apiserver served so far, by `VERB resource[/subresource]` (from its own /metrics). */
export async function apiserverRequests(client: MiniClient): Promise<Map<string, number>> {
  const r = await client.request('GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (n: string): string => new RegExp(`[{,]${n}="([^"]*)"`).exec(line)?.[1] ?? '';
    const verb = label('verb');
    const sub = label('subresource');
    const k = `${verb} ${label('resource')}${sub === '' ? '' : `/${sub}`}`;
    out.set(k, (out.get(k) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE'];

/** `after − before` of the writes, then of the reads, largest first, one line each. */
export function requestLines(before: Map<string, number>, after: Map<string, number>): string {
  const d = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
  d.sort((a, b) => b[1] - a[1]);
  const line = (what: string, write: boolean): string => {
    const sel = d.filter(([k]) => WRITE_VERBS.includes(k.slice(0, k.indexOf(' '))) === write);
    const total = sel.reduce((n, [, v]) => n + v, 0);
    return `${total} ${what}: ${sel.map(([k, v]) => `${k} ${v}`).join(', ')}`;
  };
  return `${line('writes', true)}\n[bench:operator]     and ${line('reads', false)}`;
}
export function histogramQuantile(metrics: string, name: string, labels: string, q: number): number {
  const buckets: { le: number; count: number }[] = [];
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !line.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le !== undefined) buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: v });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      // Linear interpolation inside the bucket, as Prometheus' histogram_quantile does.
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(b.count - prevCount, 1);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

const TICK_HZ = 100;
/** CPU seconds (user + system) used so far by each control-plane process (by command name), the operator and us. */
export function cpuSeconds(operatorPid?: number): Map<string, number> {
  const out = new Map<string, number>();
  const names = ['etcd', 'kube-apiserver', 'kube-controller', 'kube-scheduler', 'kwok'];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = Number(d) === operatorPid ? 'operator' : names.find((n) => comm.startsWith(n));
    if (name === undefined) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
    out.set(name, (out.get(name) ?? 0) + ticks / TICK_HZ);
  }
  const self = process.cpuUsage();
  out.set('bench (+provisioner)', (self.user + self.system) / 1e6);
  return out;
}

/** `after − before` CPU seconds per process, largest first, as one line. */
export function cpuLine(before: Map<string, number>, after: Map<string, number>, wallMs: number): string {
  const d = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0.05);
  d.sort((a, b) => b[1] - a[1]);
  const total = d.reduce((n, [, v]) => n + v, 0);
  return `CPU ${total.toFixed(0)} s over ${(wallMs / 1000).toFixed(0)} s wall (${((total / (wallMs / 1000)) * 100).toFixed(0)}% of one core): ${d.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`;
}

/** A `/proc/<pid>/status` memory field (`VmRSS`, `VmHWM`, …) in MB. */
export function procMemMb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** A gauge from Prometheus text (the first series of that name), in MB. */
export function gaugeMb(metrics: string, name: string): string {
  const v = Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return (v / 2 ** 20).toFixed(0);
}
