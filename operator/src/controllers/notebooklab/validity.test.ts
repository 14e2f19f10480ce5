// A lab is resolved only from a valid profile; a terminal failure's message says what to fix.
import { describe, expect, it } from 'vitest';
import { resolveWith } from './build.js';
import { labFixture, profileFixture } from './fixtures.test-util.js';
import { INVALID_PROFILE, profileProblem, terminalMessage } from './validity.js';

describe('profileProblem', () => {
  it('accepts the fixture profile', () => {
    expect(profileProblem(profileFixture())).toBeUndefined();
  });

  it('refuses a profile stored before the quantity rules, naming each field, so no child is built', () => {
    const p = profileFixture({
      home: { size: '-10Gi', mountPath: '/home/jovyan', retainPolicy: 'Retain' },
      sizes: [
        { name: 'small', requests: { cpu: '0', memory: '1n' }, limits: { cpu: '1e100', memory: '2Gi' } },
      ],
    });
    const r = resolveWith(labFixture(), p);
    expect(r).toEqual({
      invalid: {
        reason: INVALID_PROFILE,
        message:
          'spec.profile: NotebookProfile des-jupyterlab is invalid (' +
          'spec.home.size: must be a whole number of bytes from 1Mi to 1Pi; ' +
          'spec.sizes[0].limits.cpu: must be from 1m to 1024 cores; ' +
          'spec.sizes[0].requests.cpu: must be from 1m to 1024 cores; ' +
          'spec.sizes[0].requests.memory: must be a whole number of bytes from 1Mi to 64Ti). ' +
          'Hint: ask an admin to fix the profile; the lab starts once it is valid',
      },
    });
    // The verdict is kept per profile object: the same object gives the same answer without revalidating.
    expect(profileProblem(p)).toBe(profileProblem(p));
  });
});

describe('terminalMessage', () => {
  it("adds a hint to the apiserver's refusal: what to fix and when it is retried", () => {
    expect(
      terminalMessage('Invalid', 'PersistentVolumeClaim "x-home" is invalid: spec.resources', 'des'),
    ).toBe(
      'PersistentVolumeClaim "x-home" is invalid: spec.resources. Hint: the apiserver refused an object built ' +
        'from this lab and NotebookProfile des; fix the field named above (in the lab, or ask an admin to fix the ' +
        'profile). The lab is retried when it or its profile changes',
    );
  });
});
