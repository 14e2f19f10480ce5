// CutoutJob (namespaced, scientist): FITS cutouts and colour PNGs at a list of positions from an ImageCollection's
// tiles, DESaccess-style, run as one Indexed Job sharded by tile (controllers/cutoutjob).
import {
  arr,
  bool,
  dateTime,
  def,
  duration,
  enumOf,
  immutable,
  int,
  obj,
  req,
  str,
  withRules,
} from '../schema.js';
import type { Infer, InferInput } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import { conditions, DNS1123_SUBDOMAIN_PATTERN, LABEL_VALUE_PATTERN, observedGeneration } from './common.js';
import { API_VERSION, CUTOUTJOB } from './group.js';
import { num } from './imagecollection.js';
import { notification, notify } from './notify.js';

/** Longest CutoutJob name: its Jobs are `<name>-plan`/`-shards`/`-merge`/`-clean` and their pods add `-<index>-<5>`. */
export const CUTOUTJOB_NAME_MAX = 40;

/** Size units (DESaccess: arcmin only). */
export const SIZE_UNITS = ['arcsec', 'arcmin', 'deg', 'pix'] as const;
/** The size of a job's cutouts: `spec.size` with its defaults (1 arcmin box). */
export function sizeOf(spec: {
  size?: { shape: 'box' | 'circle'; xsize: number; ysize?: number; unit: SizeUnit };
}): {
  shape: 'box' | 'circle';
  x: number;
  y: number;
  unit: SizeUnit;
} {
  const s = spec.size ?? { shape: 'box', xsize: 1, unit: 'arcmin' };
  return { shape: s.shape, x: s.xsize, y: s.ysize ?? s.xsize, unit: s.unit };
}

/** A size unit. */
export type SizeUnit = (typeof SIZE_UNITS)[number];
/** DES limits on an angular side, in arcmin. */
export const DES_SIZE_ARCMIN = { min: 0.1, max: 12 } as const;
/** Largest side in pixels the CRD admits (a collection may set less). */
export const MAX_SIDE_PIXELS = 16384;
/** Desired phases (UWS PHASE). */
export const CUTOUT_DESIRED = ['PENDING', 'RUN', 'ABORT'] as const;
/** Observed phases (UWS). */
export const CUTOUT_PHASES = ['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'ERROR', 'ABORTED'] as const;
/** An observed phase. */
export type CutoutPhase = (typeof CUTOUT_PHASES)[number];
/** HDUs a FITS cutout may carry. */
export const HDUS = ['SCI', 'MSK', 'WGT'] as const;

const ARCMIN_PER: Record<Exclude<SizeUnit, 'pix'>, number> = { arcsec: 1 / 60, arcmin: 1, deg: 60 };

/** A side in arcmin (undefined for pixels). */
export function sideArcmin(v: number, unit: SizeUnit): number | undefined {
  return unit === 'pix' ? undefined : v * ARCMIN_PER[unit];
}

/** Whether a side is within the DES limits (angular) or a whole number of pixels ≤ {@link MAX_SIDE_PIXELS}. */
export function sideAllowed(v: number, unit: SizeUnit): boolean {
  const a = sideArcmin(v, unit);
  if (a === undefined) return Number.isInteger(v) && v >= 1 && v <= MAX_SIDE_PIXELS;
  return a >= DES_SIZE_ARCMIN.min - 1e-12 && a <= DES_SIZE_ARCMIN.max + 1e-12;
}

// CEL: the side in arcmin, then the DES bounds (with the same 1e-12 slack as the mirror).
function sideRule(f: 'xsize' | 'ysize'): string {
  const a = `(self.unit == 'arcsec' ? self.${f} / 60.0 : (self.unit == 'deg' ? self.${f} * 60.0 : self.${f}))`;
  return (
    `self.unit == 'pix' ? (self.${f} == double(int(self.${f})) && self.${f} >= 1.0 && self.${f} <= ${MAX_SIDE_PIXELS}.0) : ` +
    `(${a} >= ${DES_SIZE_ARCMIN.min - 1e-12} && ${a} <= ${DES_SIZE_ARCMIN.max + 1e-12})`
  );
}

const sideMessage = `must be ${DES_SIZE_ARCMIN.min}–${DES_SIZE_ARCMIN.max} arcmin (or a whole number of pixels ≤ ${MAX_SIDE_PIXELS})`;

type SizeValue = { shape: 'box' | 'circle'; xsize: number; ysize?: number; unit: SizeUnit };

// ajv runs an object's rules before filling in its properties' defaults (the apiserver defaults first): mirror that.
function sizeDefaults(s: Partial<SizeValue>): SizeValue {
  return { ...s, shape: s.shape ?? 'box', xsize: s.xsize ?? 1, unit: s.unit ?? 'arcmin' };
}

const size = obj(
  {
    shape: def(
      enumOf(
        ['box', 'circle'] as const,
        "box: x × y sides; circle: a diameter of xsize (a row's XSIZE; YSIZE is not used), cut as its bounding " +
          'square with every pixel whose centre lies farther than the radius from the position blank (NaN, BLANK in ' +
          'integer HDUs such as MSK), coverage counted over the circle and PNGs transparent outside it.',
      ),
      'box',
    ),
    xsize: def(num('Side along RA (box) or diameter (circle), in `unit`.', { minimum: 0 }), 1),
    ysize: num('Side along Dec, in `unit` (box; xsize when unset).', { minimum: 0 }),
    unit: def(enumOf(SIZE_UNITS, 'arcsec, arcmin (DES), deg or pix.'), 'arcmin'),
  },
  'Default size of every cutout (a row may override it with XSIZE/YSIZE). DES limits: 0.1–12 arcmin a side.',
  {
    rules: [
      {
        rule: sideRule('xsize'),
        message: `xsize ${sideMessage}`,
        fieldPath: '.xsize',
        check: (s) => sideAllowed(sizeDefaults(s).xsize, sizeDefaults(s).unit),
      },
      {
        rule: `!has(self.ysize) || (${sideRule('ysize')})`,
        message: `ysize ${sideMessage}`,
        fieldPath: '.ysize',
        check: (s) => s.ysize === undefined || sideAllowed(s.ysize, sizeDefaults(s).unit),
      },
      {
        rule: "self.shape == 'box' || !has(self.ysize)",
        message: 'a circle has one diameter (xsize): leave ysize unset',
        fieldPath: '.ysize',
        reason: 'FieldValueForbidden',
        check: (s) => sizeDefaults(s).shape === 'box' || s.ysize === undefined,
      },
    ],
  },
);

const band = str('A band of the collection, e.g. g.', { pattern: '^[A-Za-z0-9]{1,8}$', maxLength: 8 });

const positions = obj(
  {
    inline: str(
      'DES-compatible CSV: a header line naming RA and DEC (degrees), optionally XSIZE, YSIZE (in size.unit; a ' +
        "circle's diameter is XSIZE), " +
        'COLORS_FITS and ID. BOM, CRLF, quotes and blank lines are accepted; a bad row is reported, never fatal. ' +
        "Or COADD_OBJECT_ID instead of RA and DEC: the IDs are looked up in the collection's spec.objects table " +
        '(an ID it lacks is an unmatched row).',
      { maxLength: 262_144 },
    ),
    configMapRef: obj(
      {
        name: req(
          str("Name of the ConfigMap, in the job's namespace.", {
            pattern: DNS1123_SUBDOMAIN_PATTERN,
            maxLength: 253,
          }),
        ),
        key: def(
          str('Key holding the CSV.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 }),
          'positions.csv',
        ),
      },
      'Positions CSV from a ConfigMap (for lists too long to inline).',
    ),
    fromQueryJob: obj(
      {
        name: req(
          str(
            "Name of a QueryJob in the job's namespace: the job is QUEUED until it is COMPLETED and ends ERROR " +
              'when it ends otherwise. Its result must be csv, tsv or fits (gzipped or not).',
            {
              pattern: DNS1123_SUBDOMAIN_PATTERN,
              maxLength: 253,
            },
          ),
        ),
        raColumn: def(
          str(
            'Column holding RA in degrees: its exact name, else the one column matching it ignoring case.',
            {
              maxLength: 128,
            },
          ),
          'RA',
        ),
        decColumn: def(
          str(
            'Column holding Dec in degrees: its exact name, else the one column matching it ignoring case.',
            {
              maxLength: 128,
            },
          ),
          'DEC',
        ),
        idColumn: str('Column echoed as the cutout ID, e.g. COADD_OBJECT_ID (no ID when unset).', {
          maxLength: 128,
        }),
      },
      "Positions from a QueryJob's result (its RA/DEC/ID columns), read and planned by the job's plan Job; a row " +
        'whose RA or Dec is empty, NaN or out of range is reported in the manifest, never fatal.',
    ),
  },
  'Where the positions come from: exactly one of inline, configMapRef and fromQueryJob.',
  {
    rules: [
      {
        rule: '(has(self.inline) ? 1 : 0) + (has(self.configMapRef) ? 1 : 0) + (has(self.fromQueryJob) ? 1 : 0) == 1',
        message: 'exactly one of inline, configMapRef and fromQueryJob must be set',
        check: (s) => [s.inline, s.configMapRef, s.fromQueryJob].filter((v) => v !== undefined).length === 1,
      },
    ],
  },
);

const colour = obj(
  {
    method: def(
      enumOf(['lupton', 'asinh'] as const, 'lupton (astropy make_lupton_rgb) or asinh (percentile stretch).'),
      'lupton',
    ),
    bands: req(
      arr(band, 'Red, green and blue bands, in that order.', {
        minItems: 3,
        maxItems: 3,
        listType: 'atomic',
      }),
    ),
    minimum: def(num('Lupton: the black level.'), 1.0),
    stretch: def(num('Lupton: the linear stretch.', { minimum: 0 }), 50),
    Q: def(num('Lupton: the asinh softening.', { minimum: 0 }), 10),
  },
  'One colour PNG per position.',
);

/** Schema of CutoutJob.spec. */
export const cutoutJobSpec = obj(
  {
    owner: req(
      immutable(
        str('Username of the scientist who owns the job (quota, the skyport.io/owner label). Immutable.', {
          pattern: LABEL_VALUE_PATTERN,
          maxLength: 63,
        }),
        'owner is immutable',
      ),
    ),
    runId: str('Free text the owner tags the job with (UWS runId).', { maxLength: 256 }),
    imageCollection: req(
      immutable(
        str("Name of the ImageCollection in the job's namespace. Immutable.", {
          pattern: DNS1123_SUBDOMAIN_PATTERN,
          maxLength: 253,
        }),
        'imageCollection is immutable',
      ),
    ),
    positions: req(
      withRules(positions, [
        {
          rule: 'self == oldSelf',
          message: 'positions are immutable: create another CutoutJob',
          check: (s, old) => old === undefined || JSON.stringify(s) === JSON.stringify(old),
        },
      ]),
    ),
    // No object default: the apiserver compiles the rules on a default's own shape, where y (unset) is unknown.
    size,
    bands: arr(band, "Bands to cut (FITS and colour); the collection's when unset.", {
      maxItems: 16,
      listType: 'set',
    }),
    fits: def(
      obj(
        {
          enabled: def(bool('Whether FITS cutouts are written.'), true),
          bands: arr(band, 'Bands written as FITS; spec.bands (or all) when unset.', {
            maxItems: 16,
            listType: 'set',
          }),
          hdus: def(
            arr(enumOf(HDUS, 'SCI, MSK or WGT.'), 'HDUs cut into each FITS file.', {
              minItems: 1,
              maxItems: 3,
              listType: 'set',
            }),
            ['SCI'],
          ),
        },
        'FITS outputs.',
      ),
      {},
    ),
    colour: arr(colour, 'Colour PNGs (DES: Lupton, minimum 1, stretch 50, Q 10).', {
      maxItems: 8,
      listType: 'atomic',
    }),
    edgePolicy: def(
      enumOf(
        ['pad', 'trim', 'error'] as const,
        'pad: NaN/BLANK fill keeps the requested shape; trim: crop; error: fail the row.',
      ),
      'pad',
    ),
    multiTilePolicy: def(
      enumOf(
        ['mosaic', 'best-tile', 'error'] as const,
        'mosaic: fill from neighbouring tiles on the same grid; best-tile; error.',
      ),
      'mosaic',
    ),
    parallelism: def(
      obj(
        {
          shards: def(
            int('Shards (indexes of the Indexed Job); positions are grouped by tile.', {
              minimum: 1,
              maximum: 64,
            }),
            1,
          ),
        },
        'How the work is split.',
      ),
      {},
    ),
    executionDuration: def(duration("Longest the shards may run (the Job's activeDeadlineSeconds)."), '1h'),
    destruction: dateTime('When the results are deleted (files, then the CutoutJob).'),
    phase: def(enumOf(CUTOUT_DESIRED, 'PENDING: hold; RUN: execute; ABORT: stop the shards.'), 'RUN'),
    notify,
  },
  'Desired state of the cutout job.',
);

const counts = obj(
  {
    positions: int('Data rows in the input.', { minimum: 0 }),
    done: int('Rows finished (any status).', { minimum: 0 }),
    ok: int('Rows fully cut.', { minimum: 0 }),
    partial: int('Rows cut with padding or a missing band.', { minimum: 0 }),
    unmatched: int('Rows outside every tile.', { minimum: 0 }),
    failed: int('Rows refused or failed, with the reason in the manifest.', { minimum: 0 }),
  },
  'Per-row outcomes.',
);

const result = obj(
  {
    id: req(str('Result id: manifest, summary.', { maxLength: 63 })),
    path: req(str('Path relative to the results volume.', { maxLength: 1024 })),
    mimeType: str('Media type.', { maxLength: 128 }),
    size: int('Size in bytes.', { minimum: 0, format: 'int64' }),
    sha256: str('Hex SHA-256 of the file.', { pattern: '^[a-f0-9]{64}$', maxLength: 64 }),
  },
  'One result file.',
);

/** Schema of CutoutJob.status. */
export const cutoutJobStatus = obj(
  {
    observedGeneration: observedGeneration(),
    phase: enumOf(CUTOUT_PHASES, 'PENDING, QUEUED, EXECUTING, COMPLETED, ERROR or ABORTED.'),
    message: str('Human-readable summary of the phase.', { maxLength: 4096 }),
    startTime: dateTime('When the shards were started.'),
    endTime: dateTime('When the job reached COMPLETED, ERROR or ABORTED.'),
    shards: int('Shards of the Indexed Job.', { minimum: 0 }),
    counts,
    bytes: int('Bytes of cutouts written.', { minimum: 0, format: 'int64' }),
    files: int('Cutout files written.', { minimum: 0 }),
    progress: obj(
      {
        shardsDone: int('Shards finished.', { minimum: 0 }),
        positionsDone: int('Positions in finished shards (plus rows refused before sharding).', {
          minimum: 0,
        }),
        percent: int('positionsDone of positions, in percent.', { minimum: 0, maximum: 100 }),
      },
      'Progress while executing.',
    ),
    outputPath: str('Directory of the outputs, relative to the results volume.', { maxLength: 1024 }),
    results: arr(result, 'Result files with their SHA-256.', { maxItems: 16, listType: 'atomic' }),
    resultsUrl: str(
      "Where the owner lists the result files with signed download URLs (the collection's results server; " +
        'GET with a bearer token). Set once COMPLETED, when the collection serves results.',
      { maxLength: 1024 },
    ),
    conditions: conditions('Ready (COMPLETED), Degraded (a job-level fault, with its reason).'),
    notification,
  },
  'Observed state of the cutout job.',
);

/** CutoutJob.spec (after apiserver defaulting). */
export type CutoutJobSpec = Infer<typeof cutoutJobSpec>;
/** CutoutJob.spec as written. */
export type CutoutJobSpecInput = InferInput<typeof cutoutJobSpec>;
/** CutoutJob.status. */
export type CutoutJobStatus = Infer<typeof cutoutJobStatus>;
/** Per-row counts. */
export type CutoutCounts = Infer<typeof counts>;
/** One result file. */
export type CutoutResult = Infer<typeof result>;

/** A CutoutJob as read from the apiserver. */
export interface CutoutJob extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof CUTOUTJOB.kind;
  metadata: ObjectMeta;
  spec: CutoutJobSpec;
  status?: CutoutJobStatus;
}
