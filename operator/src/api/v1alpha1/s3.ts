// The one typed definition of an S3-compatible bucket (endpoint, bucket, prefix, region, credentials by Secret
// reference, path style), shared by a Catalog's spec.results.s3 (docs/adr/0013-s3-results.md) and an
// ImageCollection's spec.source.s3 (docs/adr/0016-s3-tile-source.md); only the field docs differ.
import { bool, def, obj, req, str } from '../schema.js';
import type { Infer } from '../schema.js';
import { DNS1123_SUBDOMAIN_PATTERN } from './common.js';

/** Keys S3 object keys may not hold in a prefix segment: no leading or trailing slash, no empty or `..` segment. */
export const S3_PREFIX_PATTERN = "^$|^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$";

/** What a use of the bucket says about its fields (the schema is the same). */
export interface S3BucketDocs {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly prefixDefault: string;
  /** Where the credentials Secret must exist. */
  readonly secret: string;
}

/** The schema of a bucket: every field and rule the same wherever it is used. */
export function s3Bucket(docs: S3BucketDocs) {
  const credentials = obj(
    {
      name: req(str(docs.secret, { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 })),
      accessKeyIdKey: def(
        str('Key of the access key id.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 }),
        'AWS_ACCESS_KEY_ID',
      ),
      secretAccessKeyKey: def(
        str('Key of the secret access key.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 }),
        'AWS_SECRET_ACCESS_KEY',
      ),
    },
    'The access key pair, by reference: pods read it from the Secret, it is never in a pod spec.',
  );
  return obj(
    {
      endpoint: req(
        str(
          'Base URL of the S3 API, with no path: https://s3.<region>.amazonaws.com, an OpenStack Swift or Ceph RGW ' +
            'S3 endpoint, http://minio.storage:9000, ….',
          { pattern: '^https?://[^/?#\\s]+/?$', maxLength: 512 },
        ),
      ),
      bucket: req(str(docs.bucket, { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', maxLength: 63 })),
      prefix: def(str(docs.prefix, { pattern: S3_PREFIX_PATTERN, maxLength: 512 }), docs.prefixDefault),
      region: def(
        str('SigV4 signing region (us-east-1 for most S3-compatible servers).', {
          pattern: '^[a-z0-9-]+$',
          maxLength: 63,
        }),
        'us-east-1',
      ),
      credentialsSecretRef: req(credentials),
      forcePathStyle: def(
        bool(
          'Path-style URLs (<endpoint>/<bucket>/<key>) instead of virtual-host style (<bucket>.<endpoint host>); ' +
            'most S3-compatible servers need true.',
        ),
        false,
      ),
    },
    docs.description,
    {
      rules: [
        {
          rule: "!self.prefix.split('/').exists(s, s == '..' || s == '.')",
          message: "prefix must not contain '.' or '..' segments",
          fieldPath: '.prefix',
          check: (s) => !s.prefix.split('/').some((x) => x === '..' || x === '.'),
        },
      ],
    },
  );
}

/** A bucket as the apiserver returns it (defaults filled in). */
export type S3Bucket = Infer<ReturnType<typeof s3Bucket>>;
