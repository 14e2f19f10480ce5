// A profile's Ready condition: True for a profile its schema accepts, False naming each field that breaks it.
import { describe, expect, it } from 'vitest';
import { profileFixture } from '../notebooklab/fixtures.test-util.js';
import { PROFILE_REASON, profileStatus, sameProfileStatus } from './status.js';

const T0 = new Date('2026-12-01T10:00:00Z');
const T1 = new Date('2026-12-01T11:00:00Z');

describe('profileStatus', () => {
  it('is Ready for a valid profile, with what it offers and the generation it saw', () => {
    const s = profileStatus(profileFixture(), T0);
    expect(s).toEqual({
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: PROFILE_REASON.valid,
          message: 'Offers 2 image aliases and 2 sizes',
          observedGeneration: 1,
          lastTransitionTime: '2026-12-01T10:00:00Z',
        },
      ],
    });
  });

  it('is not Ready when an alias or size it names is missing or a size is not sane, naming each field', () => {
    const p = profileFixture({
      defaultSize: 'huge',
      sizes: [{ name: 'small', requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } }],
    });
    const ready = profileStatus(p, T0).conditions?.[0];
    expect(ready).toMatchObject({ type: 'Ready', status: 'False', reason: PROFILE_REASON.invalid });
    expect(ready?.message).toContain('defaultSize must name one of sizes');
    expect(ready?.message).toContain(
      'spec.sizes[0].limits: limits must be at least requests for cpu and memory',
    );
    const noAlias = profileFixture({
      images: { aliases: [], defaultAlias: 'gone', allowCustomImage: false, pullPolicy: 'IfNotPresent' },
    });
    expect(profileStatus(noAlias, T0).conditions?.[0]?.message).toMatch(
      /defaultAlias must name one of aliases/,
    );
  });

  it('keeps the transition time while Ready does not flip, and moves it when it does', () => {
    const first = profileStatus(profileFixture(), T0);
    const again = profileStatus({ ...profileFixture(), status: first }, T1);
    expect(sameProfileStatus(first, again)).toBe(true);
    const broken = {
      ...profileFixture({ home: { size: '-10Gi', mountPath: '/h', retainPolicy: 'Retain' } }),
    };
    const flipped = profileStatus({ ...broken, status: first }, T1);
    expect(sameProfileStatus(first, flipped)).toBe(false);
    expect(flipped.conditions?.[0]).toMatchObject({
      status: 'False',
      lastTransitionTime: '2026-12-01T11:00:00Z',
    });
    expect(flipped.conditions?.[0]?.message).toContain('spec.home.size: must be a whole number of bytes');
  });
});
