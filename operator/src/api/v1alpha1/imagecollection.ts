// ImageCollection (namespaced, admin): where a survey's coadd tiles are, where cutouts of them are written, the
// limits every CutoutJob on it obeys, and (status) the tile index an indexing Job built from the files' headers.
import { arr, bool, dateTime, def, enumOf, int, obj, req, str } from '../schema.js';
import type { Field, Infer, InferInput } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import { conditions, DNS1123_SUBDOMAIN_PATTERN, observedGeneration } from './common.js';
import { API_VERSION, IMAGECOLLECTION } from './group.js';
import { s3Bucket } from './s3.js';

/** A floating-point number (JSON number; CEL double). */
export function num(
  description: string,
  opts: { minimum?: number; maximum?: number } = {},
): Field<number, number, 'optional'> {
  return { schema: { type: 'number', description, ...opts }, presence: 'optional' };
}

/** Phases of an ImageCollection. */
export const COLLECTION_PHASES = ['Indexing', 'Ready', 'Failed'] as const;

/** A relative path inside a volume: no leading slash, no `..` segment. */
export const SUBPATH_PATTERN = '^$|^([^/\\x00]+)(/[^/\\x00]+)*$';

function claimPath(what: string) {
  return obj(
    {
      claimName: req(
        str(`Name of the PersistentVolumeClaim ${what}, in the collection's namespace.`, {
          pattern: DNS1123_SUBDOMAIN_PATTERN,
          maxLength: 253,
        }),
      ),
      path: def(
        str('Directory inside the volume (relative; empty for its root).', {
          pattern: SUBPATH_PATTERN,
          maxLength: 512,
        }),
        '',
      ),
    },
    `A directory on a PersistentVolumeClaim ${what}.`,
    {
      rules: [
        {
          rule: "!self.path.split('/').exists(s, s == '..')",
          message: 'path must not contain ".."',
          fieldPath: '.path',
          check: (s) => !s.path.split('/').includes('..'),
        },
      ],
    },
  );
}

const limits = obj(
  {
    maxPositions: def(
      int('Most positions in one CutoutJob; rows beyond it are refused per row.', {
        minimum: 1,
        maximum: 1_000_000,
      }),
      100_000,
    ),
    minSizeArcmin: def(
      num('Smallest angular side of a cutout, in arcmin (DES: 0.1).', { minimum: 0.001, maximum: 12 }),
      0.1,
    ),
    maxSizeArcmin: def(
      num('Largest angular side of a cutout, in arcmin (DES: 12).', { minimum: 0.001, maximum: 12 }),
      12,
    ),
    maxSizePixels: def(
      int('Largest side of a cutout sized in pixels.', { minimum: 1, maximum: 16384 }),
      4096,
    ),
    maxConcurrentJobsPerOwner: def(
      int('CutoutJobs of one owner executing at once on this collection; more wait as QUEUED.', {
        minimum: 1,
        maximum: 1000,
      }),
      4,
    ),
  },
  'Limits every CutoutJob on this collection obeys.',
  {
    rules: [
      {
        rule: 'self.minSizeArcmin <= self.maxSizeArcmin',
        message: 'minSizeArcmin must not exceed maxSizeArcmin',
        // Defaults mirrored: ajv runs this rule before it fills in the properties' defaults.
        check: (s: Partial<{ minSizeArcmin: number; maxSizeArcmin: number }>) =>
          (s.minSizeArcmin ?? 0.1) <= (s.maxSizeArcmin ?? 12),
      },
    ],
  },
);

/** A SQL identifier as the catalogue spells it (used quoted, so exactly as written). */
export const SQL_IDENTIFIER_PATTERN = '^[^\\x00.]{1,63}$';

function identifier(description: string) {
  return str(
    `${description} Quoted as written: case-sensitive (PostgreSQL folds unquoted names to lower case).`,
    {
      pattern: SQL_IDENTIFIER_PATTERN,
      maxLength: 63,
    },
  );
}

const objects = obj(
  {
    catalogRef: req(
      obj(
        { name: req(str('Name of the Catalog.', { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 })) },
        "The Catalog (cluster-scoped) holding the collection's objects; its results claim must exist in the job's namespace.",
      ),
    ),
    schema: identifier('Schema of the table; the database search path when unset.'),
    table: req(identifier('Table (or view) with one row per object.')),
    idColumn: def(
      identifier('Column of the object IDs (64-bit integers), e.g. coadd_object_id.'),
      'coadd_object_id',
    ),
    raColumn: def(identifier('Column of RA in degrees.'), 'ra'),
    decColumn: def(identifier('Column of Dec in degrees.'), 'dec'),
  },
  "The catalogue table that knows the collection's objects. A CutoutJob whose positions name objects by " +
    "COADD_OBJECT_ID only has them looked up there, by one QueryJob of the job's owner that the operator writes.",
);

/** Schema of ImageCollection.spec. */
export const imageCollectionSpec = obj(
  {
    description: str('What the collection is, shown to users.', { maxLength: 1024 }),
    release: str('Data release the tiles belong to, e.g. DR2 (recorded in cutout provenance).', {
      maxLength: 63,
    }),
    source: req(
      obj(
        {
          persistentVolumeClaim: claimPath('holding the tiles (mounted read-only by cutout shards)'),
          s3: s3Bucket({
            description:
              'An S3-compatible bucket holding the tiles: the indexing Job reads their headers by ranged GETs and ' +
              'writes the index to the results claim; cutout shards download the tiles they need into a scratch ' +
              'emptyDir (docs/adr/0016-s3-tile-source.md).',
            bucket: 'The bucket (it must exist; it is only read: ListBucket and GetObject suffice).',
            prefix:
              'Key prefix of the tiles: every <prefix>/<name>.fits or .fits.fz object directly under it is a ' +
              'file of the collection (empty: the bucket root).',
            prefixDefault: '',
            secret:
              "Name of a Secret with the access key pair, in the collection's namespace and in each namespace " +
              'whose CutoutJobs use this collection.',
          }),
        },
        'Where the tiles are: exactly one of persistentVolumeClaim and s3 (an S3-compatible bucket).',
        {
          rules: [
            {
              rule: 'has(self.persistentVolumeClaim) != has(self.s3)',
              message: 'exactly one of persistentVolumeClaim and s3 must be set',
              check: (s) => (s.persistentVolumeClaim !== undefined) !== (s.s3 !== undefined),
            },
          ],
        },
      ),
    ),
    results: req(
      obj(
        {
          persistentVolumeClaim: req(claimPath('where CutoutJobs write their outputs')),
          serve: obj(
            {
              enabled: def(bool('Run the results server; false removes it and keeps this block.'), true),
              replicas: def(
                int('Results server Pods (stateless: any replica serves any job).', {
                  minimum: 0,
                  maximum: 16,
                }),
                1,
              ),
              secretName: req(
                str(
                  "Secret in the collection's namespace with `tokens` (one `user token` a line: who a bearer token " +
                    "is, the TAP Secret's format) and `signing-key` (at least 32 bytes: the HMAC key of file URLs, " +
                    'shared by the replicas).',
                  { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 },
                ),
              ),
            },
            "The results server (the cutout runner's `serve`): each CutoutJob's owner, and only the owner, lists " +
              'its result files and downloads them by short-lived signed URLs. Unset: files are only on the claim.',
          ),
        },
        'Where CutoutJobs on this collection write (each under cutoutjobs/<name>-<uid>/), and how they are served.',
      ),
    ),
    limits: def(limits, {}),
    objects,
  },
  'Desired state of the collection.',
);

const footprint = obj(
  {
    tile: req(str('Tile name (TILENAME card).', { maxLength: 128 })),
    raMin: req(num('Lowest RA in degrees [0, 360).')),
    raMax: req(num('Highest RA in degrees [0, 360); below raMin when the tile crosses RA 0.')),
    decMin: req(num('Lowest Dec in degrees.')),
    decMax: req(num('Highest Dec in degrees.')),
  },
  "One tile's footprint: RA/Dec bounds of its outer pixel edges.",
);

/** Schema of ImageCollection.status. */
export const imageCollectionStatus = obj(
  {
    observedGeneration: observedGeneration(),
    phase: enumOf(COLLECTION_PHASES, 'Indexing, Ready or Failed.'),
    message: str('Human-readable summary of the phase.', { maxLength: 4096 }),
    tiles: int('Tiles indexed.', { minimum: 0 }),
    bands: arr(str('A band.', { maxLength: 16 }), 'Bands found in the tiles.', {
      maxItems: 64,
      listType: 'atomic',
    }),
    skipped: int('Files that could not be indexed (their reasons are in the index file).', { minimum: 0 }),
    coverage: obj(
      {
        raMin: num('Lowest RA of any tile.'),
        raMax: num('Highest RA of any tile (below raMin when the coverage crosses RA 0).'),
        decMin: num('Lowest Dec of any tile.'),
        decMax: num('Highest Dec of any tile.'),
        crossRa0: bool('Whether the coverage crosses RA 0.'),
      },
      'Sky coverage: the union of the tile footprints as RA/Dec bounds.',
    ),
    indexPath: str(
      'Where the tile index is: relative to the source volume (tiles.json), or for a bucket source relative to ' +
        'the results volume (index/tiles.json).',
      { maxLength: 1024 },
    ),
    largestTileBytes: int(
      "Bytes of the largest tile's files (all bands): a bucket source's shards get 9 times this as scratch.",
      { minimum: 0 },
    ),
    indexedAt: dateTime('When the index was built.'),
    indexJob: str('Name of the indexing Job of the current source.', { maxLength: 63 }),
    footprints: arr(footprint, 'Every tile footprint (CutoutJobs shard positions by tile with them).', {
      maxItems: 5000,
      listType: 'atomic',
    }),
    results: obj(
      {
        url: str(
          'In-cluster URL of the results server (GET <url>/cutoutjobs/<name> with a bearer token lists a job).',
          { maxLength: 512 },
        ),
        replicas: int('Results server Pods asked for.', { minimum: 0 }),
        readyReplicas: int('Results server Pods ready.', { minimum: 0 }),
      },
      'The results server, while spec.results.serve is enabled.',
    ),
    conditions: conditions('Ready (indexed and usable) and Degraded (indexing failed, with the reason).'),
  },
  'Observed state of the collection.',
);

/** ImageCollection.spec (after apiserver defaulting). */
export type ImageCollectionSpec = Infer<typeof imageCollectionSpec>;
/** ImageCollection.spec as written. */
export type ImageCollectionSpecInput = InferInput<typeof imageCollectionSpec>;
/** ImageCollection.status. */
export type ImageCollectionStatus = Infer<typeof imageCollectionStatus>;
/** One tile footprint. */
export type TileFootprint = Infer<typeof footprint>;
/** Limits of a collection. */
export type CollectionLimits = Infer<typeof limits>;
/** Where a collection's objects are looked up by ID. */
export type CollectionObjects = Infer<typeof objects>;

/** An ImageCollection as read from the apiserver. */
export interface ImageCollection extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof IMAGECOLLECTION.kind;
  metadata: ObjectMeta;
  spec: ImageCollectionSpec;
  status?: ImageCollectionStatus;
}
