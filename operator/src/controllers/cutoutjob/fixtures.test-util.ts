// Fixtures of the CutoutJob controller's unit tests: a Ready collection of 3 × 3 tiles and a CutoutJob as the
// apiserver stores them (defaults filled in by the CRD schema's ajv mirror).
import { cutoutJobValidator, imageCollectionValidator } from '../../api/validate.js';
import {
  sampleCollection,
  sampleCutoutJob,
  type CutoutJob,
  type ImageCollection,
  type TileFootprint,
} from '../../api/v1alpha1/index.js';

/** 3 × 3 tiles of 0.1° around RA 0, Dec −30 (the middle column crosses RA 0). */
export const FOOTPRINTS: TileFootprint[] = [0, 1, 2].flatMap((ix) =>
  [0, 1, 2].map((iy) => {
    const ra0 = (360 + (ix - 1) * 0.1 - 0.05) % 360;
    return {
      tile: `T${ix}${iy}`,
      raMin: ra0,
      raMax: (ra0 + 0.1) % 360,
      decMin: -30.15 + iy * 0.1,
      decMax: -30.05 + iy * 0.1,
    };
  }),
);

export function collection(over: Partial<ImageCollection['status']> = {}): ImageCollection {
  const r = imageCollectionValidator.validate({
    ...sampleCollection(),
    metadata: {
      name: 'des-sample',
      namespace: 'des-cutouts',
      uid: 'c0ffee00-1111-2222-3333-444455556666',
      generation: 1,
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return {
    ...r.value,
    status: {
      phase: 'Ready',
      tiles: 9,
      bands: ['g', 'r', 'i', 'z'],
      indexPath: 'tiles.json',
      footprints: FOOTPRINTS,
      ...over,
    },
  };
}

export function cutout(
  spec: Partial<CutoutJob['spec']> = {},
  annotations?: Record<string, string>,
): CutoutJob {
  const s = sampleCutoutJob();
  const r = cutoutJobValidator.validate({
    ...s,
    metadata: {
      name: 'lens-candidates',
      namespace: 'des-cutouts',
      uid: 'abcdef12-3456-7890-abcd-ef1234567890',
      generation: 1,
      ...(annotations && { annotations }),
    },
    spec: { ...s.spec, ...spec },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}
