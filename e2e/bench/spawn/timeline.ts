// `bench:spawn --timeline`: where a spawn's time goes, from the objects themselves. The bench watches the labs'
// namespaces (NotebookLabs, claims, Pods) and PersistentVolumes and notes the first moment each step of a start is
// visible: the lab with its finalizer, the home claim, its volume, the claim bound, the Pod, scheduled, given an
// IP (its sandbox and network are up), its container running, Ready. The same steps for skyport and the hub, so
// the two paths can be compared step by step. Pure parts here; the watches are in spawn.bench.ts.

/** The steps of one start, in the order they normally happen. */
export const STEPS = [
  'lab',
  'finalizer',
  'claim',
  'volume',
  'bound',
  'pod',
  'scheduled',
  'ip',
  'running',
  'ready',
  'answered',
  'reported',
] as const;
export type Step = (typeof STEPS)[number];

/** What a step is, for the printed legend. */
export const STEP_TEXT: Record<Step, string> = {
  lab: 'NotebookLab seen by a watch',
  finalizer: 'operator added its finalizer (first write)',
  claim: 'home PersistentVolumeClaim created',
  volume: 'PersistentVolume for it created (provisioner)',
  bound: 'claim Bound (PV controller)',
  pod: 'Pod created',
  scheduled: 'Pod bound to the node (scheduler)',
  ip: 'Pod IP in status (kubelet: sandbox + CNI)',
  running: 'container running in status (kubelet)',
  ready: 'Pod Ready (readiness probe)',
  answered: 'JupyterLab answered the bench',
  reported: 'platform reported it ready (lab Ready / Hub call returned)',
};

export interface Obj {
  kind?: string;
  metadata?: { name?: string; namespace?: string; finalizers?: string[] };
  spec?: { nodeName?: string; claimRef?: { name?: string; namespace?: string } };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { state?: { running?: unknown } }[];
    conditions?: { type?: string; status?: string }[];
  };
}

/** Whether `obj`'s status has condition Ready=True (a Pod's or a NotebookLab's). */
export const isReady = (obj: Obj): boolean =>
  (obj.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** What a Pod shows of its start. */
function podSteps(obj: Obj): Step[] {
  const st = obj.status ?? {};
  const steps: Step[] = ['pod'];
  if (obj.spec?.nodeName) steps.push('scheduled');
  if (st.podIP) steps.push('ip');
  if ((st.containerStatuses ?? []).some((c) => c.state?.running !== undefined)) steps.push('running');
  if (isReady(obj)) steps.push('ready');
  return steps;
}

/** The steps `obj` (of `kind`, as a watch event showed it) shows as done, with the key it belongs to. */
export function stepsOf(kind: string, obj: Obj): { key: string; steps: Step[] } | undefined {
  const m = obj.metadata ?? {};
  switch (kind) {
    case 'NotebookLab': {
      const steps: Step[] = ['lab'];
      if ((m.finalizers ?? []).length > 0) steps.push('finalizer');
      if (isReady(obj)) steps.push('reported');
      return { key: `${m.namespace ?? ''}/${m.name ?? ''}`, steps };
    }
    case 'PersistentVolumeClaim':
      return {
        key: `${m.namespace ?? ''}/${m.name ?? ''}`,
        steps: obj.status?.phase === 'Bound' ? ['claim', 'bound'] : ['claim'],
      };
    case 'PersistentVolume': {
      const ref = obj.spec?.claimRef;
      return ref?.name === undefined
        ? undefined
        : { key: `${ref.namespace ?? ''}/${ref.name}`, steps: ['volume'] };
    }
    case 'Pod':
      return { key: `${m.namespace ?? ''}/${m.name ?? ''}`, steps: podSteps(obj) };
    default:
      return undefined;
  }
}

/** First-seen times (ms, any clock) of each step, per object key. */
export class StepLog {
  private readonly seen = new Map<string, Map<Step, number>>();

  /** Notes the steps `obj` shows at `at`; a step keeps the first time it was seen. */
  observe(kind: string, obj: unknown, at: number): void {
    const s = stepsOf(kind, obj as Obj);
    if (s === undefined) return;
    let m = this.seen.get(s.key);
    if (m === undefined) this.seen.set(s.key, (m = new Map<Step, number>()));
    for (const step of s.steps) if (!m.has(step)) m.set(step, at);
  }

  /**
   * One start's steps as ms since `t0`, from the objects that make it up (`keys`: the lab, its claim and its Pod,
   * `namespace/name`); a step not seen is missing.
   */
  timeline(keys: readonly string[], t0: number): Partial<Record<Step, number>> {
    const out: Partial<Record<Step, number>> = {};
    for (const k of keys)
      for (const [step, at] of this.seen.get(k) ?? []) {
        const ms = at - t0;
        const prev = out[step];
        if (prev === undefined || ms < prev) out[step] = ms;
      }
    return out;
  }
}

/** Median of each step over `timelines` (a step counts only where seen) and the p50 of each gap to the step before. */
export function medianTimeline(
  timelines: readonly Partial<Record<Step, number>>[],
): { step: Step; at: number; n: number }[] {
  const out: { step: Step; at: number; n: number }[] = [];
  for (const step of STEPS) {
    const xs = timelines.map((t) => t[step]).filter((x): x is number => x !== undefined);
    if (xs.length === 0) continue;
    const s = [...xs].sort((a, b) => a - b);
    out.push({ step, at: s[Math.ceil(s.length / 2) - 1] ?? NaN, n: s.length });
  }
  return out;
}

/** The printed table: one column per path, one row per step, median ms since the start's first call. */
export function timelineTable(
  paths: readonly { name: string; timelines: Partial<Record<Step, number>>[] }[],
): string {
  const med = paths.map((p) => new Map(medianTimeline(p.timelines).map((r) => [r.step, r])));
  const w = Math.max(...STEPS.map((s) => STEP_TEXT[s].length));
  const cols = paths.map((p) => Math.max(p.name.length, 8));
  const head = `${'step (median ms since the apply / REST call)'.padEnd(w)}  ${paths.map((p, i) => p.name.padStart(cols[i] ?? 8)).join('  ')}`;
  const rows = STEPS.filter((s) => med.some((m) => m.has(s))).map(
    (s) =>
      `${STEP_TEXT[s].padEnd(w)}  ${med
        .map((m, i) => {
          const r = m.get(s);
          return (r === undefined ? '—' : String(Math.round(r.at))).padStart(cols[i] ?? 8);
        })
        .join('  ')}`,
  );
  return [head, ...rows].join('\n');
}
