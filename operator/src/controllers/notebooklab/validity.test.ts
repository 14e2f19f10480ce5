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

describe('checkMounts (through resolveWith)', () => {
  it('refuses a lab volume mounted on the home volume or the scratch space, naming the volume', () => {
    const vol = (mountPath: string) => ({
      name: 'data',
      mountPath,
      readOnly: true,
      configMap: { name: 'cm' },
    });
    expect(
      resolveWith(labFixture({ volumes: [vol('/data'), vol('/home/jovyan/')] }), profileFixture()),
    ).toEqual({
      invalid: {
        reason: 'InvalidSpec',
        message:
          'spec.volumes[1].mountPath: /home/jovyan/ is where profile des-jupyterlab mounts the home volume; ' +
          'choose another path',
      },
    });
    expect(resolveWith(labFixture({ volumes: [vol('/tmp')] }), profileFixture())).toEqual({
      invalid: {
        reason: 'InvalidSpec',
        message: "spec.volumes[0].mountPath: /tmp is the lab's scratch space; choose another path",
      },
    });
    expect('resolved' in resolveWith(labFixture({ volumes: [vol('/tmp/data')] }), profileFixture())).toBe(
      true,
    );
  });

  it('refuses a profile mounting the home volume on /tmp (CEL mirror)', () => {
    const p = profileFixture({ home: { size: '1Gi', mountPath: '/tmp', retainPolicy: 'Retain' } });
    expect(profileProblem(p)?.message).toContain(
      'spec.home.mountPath: must not be /tmp: every lab mounts its scratch space there',
    );
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
