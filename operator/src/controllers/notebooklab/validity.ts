// Whether a lab's profile is one the operator may build from, and the hint a terminal `Invalid` reports: a lab
// gets no child until its spec and profile are known valid, so the apiserver never refuses a child half-way.
import type { NotebookLab, NotebookProfile } from '../../api/v1alpha1/index.js';
import { formatErrors, notebookProfileValidator } from '../../api/validate.js';
import { TerminalError } from '../../errors.js';

/** Where every lab container gets its writable scratch space (build.ts mounts an emptyDir there). */
export const SCRATCH_PATH = '/tmp';

/** Degraded reason of a lab whose profile breaks the profile schema (e.g. one stored before its CEL rules). */
export const INVALID_PROFILE = 'InvalidProfile';

// Per cached profile object: the informer replaces the object on every change, so the verdict is computed once per
// profile version however many labs use it.
const verdicts = new WeakMap<NotebookProfile, { reason: string; message: string } | null>();

/**
 * Why the operator must not build a lab from `profile`, or undefined when it may. The profile is checked against
 * the same schema and rules as the CRD (the ajv mirror): a profile stored before a rule existed (`home.size: -10Gi`)
 * is still in the cluster after an upgrade, and what it would produce the apiserver refuses.
 */
export function profileProblem(profile: NotebookProfile): { reason: string; message: string } | undefined {
  const known = verdicts.get(profile);
  if (known !== undefined) return known ?? undefined;
  const r = notebookProfileValidator.validate(profile);
  const name = profile.metadata.name ?? '';
  const verdict = r.ok
    ? null
    : {
        reason: INVALID_PROFILE,
        message:
          `spec.profile: NotebookProfile ${name} is invalid (${formatErrors(r.errors)}). ` +
          `Hint: ask an admin to fix the profile; the lab starts once it is valid`,
      };
  verdicts.set(profile, verdict);
  return verdict ?? undefined;
}

/**
 * The `Degraded` message of a terminal failure (the apiserver refused a write, e.g. `Invalid`): what it said, and
 * what to fix. The lab is retried when it or its profile changes (the controller unparks it on either).
 */
export function terminalMessage(code: string, message: string, profile: string): string {
  const what =
    code === 'Invalid' || code === 'BadRequest'
      ? `the apiserver refused an object built from this lab and NotebookProfile ${profile}`
      : 'the lab cannot be reconciled';
  return (
    `${message}. Hint: ${what}; fix the field named above (in the lab, or ask an admin to fix the profile). ` +
    `The lab is retried when it or its profile changes`
  );
}

/**
 * Refuses a lab volume mounted where the home volume or the scratch space is: the apiserver would refuse the Pod
 * (mount paths must be unique), after the lab's other children exist.
 *
 * @throws TerminalError `InvalidSpec` naming `spec.volumes[i].mountPath`.
 */
export function checkMounts(lab: NotebookLab, homePath: string, profileName: string): void {
  const clean = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  (lab.spec.volumes ?? []).forEach((v, i) => {
    const path = clean(v.mountPath);
    const what =
      path === clean(homePath)
        ? `where profile ${profileName} mounts the home volume`
        : path === SCRATCH_PATH
          ? "the lab's scratch space"
          : undefined;
    if (what === undefined) return;
    throw new TerminalError(
      'InvalidSpec',
      `spec.volumes[${i}].mountPath: ${v.mountPath} is ${what}; choose another path`,
      { detail: { field: `spec.volumes[${i}].mountPath` } },
    );
  });
}
