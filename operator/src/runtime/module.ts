// The controller-module contract: what `controllers/<kind>/index.ts` exports, and the one list (`controllers/
// registry.ts`) that main.ts, the RBAC and CRD generator and the chart iterate.
import type { V1PolicyRule } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { definitionName, type KindDefinition } from '../api/v1alpha1/crds.js';
import type { Kube, KubeObject } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import type { ControllerOptions } from './controller.js';
import type { SettingsOf, SettingsSchema } from './settings.js';

/** What a module's `controller(deps)` gets: the client, the event recorder, a logger and its parsed settings. */
export interface ModuleDeps<S> {
  kube: Kube;
  events: EventRecorder;
  log: Logger;
  settings: S;
}

/** One controller as a unit: everything the operator, the generator and the chart need to know about it. */
export interface ControllerModule<S extends SettingsSchema = SettingsSchema> {
  /** DNS label: the controller's name in logs and metrics, `--controllers`, and the chart's `controllers.<name>`. */
  readonly name: string;
  /** One line for the chart's values and the README. */
  readonly description: string;
  /** The CRDs this controller serves (written to crds/ and the chart by `npm run generate`). */
  readonly crds: readonly KindDefinition[];
  /** The RBAC rules it needs, merged into the generated ClusterRole (no wildcards). */
  readonly rbac: readonly V1PolicyRule[];
  /** Its typed settings (env, chart values and README table from one schema). */
  readonly settings: S;
  /** Builds the controller's options for `manager.add` (called once, before the manager starts). */
  controller(deps: ModuleDeps<SettingsOf<S>>): ControllerOptions<KubeObject>;
}

/**
 * Declares a controller module. `T` is the primary kind's type: the manager hands `reconcile` objects of the
 * `for` kind only, so the options are registered as `ControllerOptions<KubeObject>` (as `Manager.add` does).
 */
export function defineController<S extends SettingsSchema, T extends KubeObject>(
  m: Omit<ControllerModule<S>, 'controller'> & {
    controller(deps: ModuleDeps<SettingsOf<S>>): ControllerOptions<T>;
  },
): ControllerModule<S> {
  return {
    ...m,
    // ControllerOptions<T> differs from ControllerOptions<KubeObject> only in the primary's type (see above).
    controller: (deps) => m.controller(deps) as unknown as ControllerOptions<KubeObject>,
  };
}

/** Thrown when a module list is inconsistent (duplicate names, a CRD served twice, an env variable shared). */
export class ModuleListError extends Error {
  override readonly name = 'ModuleListError';
}

/** Checks that names, served CRDs and settings' env variables are unique across `modules`. */
export function checkModules(modules: readonly ControllerModule[]): void {
  const seen = new Map<string, string>();
  const claim = (what: string, by: string): void => {
    const prev = seen.get(what);
    if (prev !== undefined) throw new ModuleListError(`${what} is declared by both ${prev} and ${by}`);
    seen.set(what, by);
  };
  for (const m of modules) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m.name))
      throw new ModuleListError(`controller name ${JSON.stringify(m.name)} is not a DNS-1123 label`);
    claim(`controller ${m.name}`, m.name);
    for (const d of m.crds) claim(`CRD ${definitionName(d)}`, m.name);
    for (const s of Object.values(m.settings)) claim(`env ${s.env}`, m.name);
  }
}

/**
 * The modules to run: all of them when `names` is undefined, else exactly those named (an empty list runs none).
 *
 * @throws ModuleListError naming an unknown controller and the known ones.
 */
export function selectModules(
  modules: readonly ControllerModule[],
  names: readonly string[] | undefined,
): ControllerModule[] {
  if (names === undefined) return [...modules];
  const known = new Set(modules.map((m) => m.name));
  const unknown = names.find((n) => !known.has(n));
  if (unknown !== undefined)
    throw new ModuleListError(
      `unknown controller ${JSON.stringify(unknown)}; known controllers: ${[...known].join(', ')}`,
    );
  return modules.filter((m) => names.includes(m.name));
}
