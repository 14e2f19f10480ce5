// A NotebookProfile's status (pure): `Ready` is True when the profile passes its own schema — the CRD's rules, so
// every default alias and size it names exists and every size's limits cover its requests — and False naming each
// field that breaks it (a profile stored before a rule existed, e.g. `home.size: -10Gi`).
import type { NotebookProfile, NotebookProfileStatus } from '../../api/v1alpha1/index.js';
import { formatErrors, notebookProfileValidator } from '../../api/validate.js';
import { CONDITION, setCondition } from '../../meta/index.js';

/** `Ready` reasons. */
export const PROFILE_REASON = { valid: 'Valid', invalid: 'InvalidProfile' } as const;

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The status a profile should have now; transition times are kept while `Ready` does not flip. */
export function profileStatus(profile: NotebookProfile, now: Date): NotebookProfileStatus {
  const r = notebookProfileValidator.validate(profile);
  const generation = profile.metadata.generation ?? 0;
  const spec = profile.spec;
  const ready = r.ok
    ? {
        status: 'True' as const,
        reason: PROFILE_REASON.valid,
        message:
          `Offers ${count(spec.images.aliases.length, 'image alias', 'image aliases')}` +
          `${spec.images.allowCustomImage === true ? ' and custom images' : ''} and ` +
          `${count(spec.sizes.length, 'size', 'sizes')}`,
      }
    : {
        status: 'False' as const,
        reason: PROFILE_REASON.invalid,
        message: `${formatErrors(r.errors)}. Hint: fix these fields; labs using this profile get no new server until then`,
      };
  const conditions = setCondition(
    profile.status?.conditions,
    { type: CONDITION.Ready, observedGeneration: generation, ...ready },
    now,
  );
  return { observedGeneration: generation, conditions };
}

/** True when two statuses say the same (no write needed). */
export function sameProfileStatus(a: NotebookProfileStatus | undefined, b: NotebookProfileStatus): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b);
}
