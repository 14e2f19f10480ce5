// NotebookProfile (cluster-scoped): the admin's menu of images and sizes and the policies every lab using it obeys.
import { arr, bool, def, duration, enumOf, int, obj, req, str, withRules } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import type { Infer, InferInput } from '../schema.js';
import { parseDuration, parseQuantity } from '../units.js';
import {
  conditions,
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  IMAGE_PATTERN,
  boundedQuantity,
  observedGeneration,
  resourceAmounts,
} from './common.js';
import type { ResourceAmounts } from './common.js';
import { API_VERSION, NOTEBOOKPROFILE } from './group.js';

/**
 * Default mount path of the home volume inside the lab container (not a host path): the home directory of the
 * Jupyter Docker Stacks images' user; a profile sets another with `home.mountPath`.
 */
export const JUPYTER_IMAGE_HOME = '/home/jovyan';

function atLeast(limits: ResourceAmounts, requests: ResourceAmounts): boolean {
  return (
    parseQuantity(limits.cpu) >= parseQuantity(requests.cpu) &&
    parseQuantity(limits.memory) >= parseQuantity(requests.memory)
  );
}

const imageAlias = obj(
  {
    name: req(
      str('Alias users pick, e.g. "recommended" or "weekly".', {
        pattern: DNS1123_LABEL_PATTERN,
        maxLength: 63,
      }),
    ),
    image: req(
      str(
        'Image reference the alias stands for, e.g. "registry.example.org/des/lab:2026.07" or pinned by digest.',
        {
          pattern: IMAGE_PATTERN,
          maxLength: 512,
        },
      ),
    ),
    description: str('Text shown in the spawner menu.', { maxLength: 256 }),
  },
  'An image users may pick by alias.',
);

const images = obj(
  {
    aliases: def(
      arr(imageAlias, 'Images users may pick by alias, first one listed first in menus.', {
        maxItems: 32,
        listType: 'map',
        listMapKeys: ['name'],
      }),
      [],
    ),
    defaultAlias: str(
      'Alias used when a lab names neither spec.imageAlias nor spec.image; must be in aliases.',
      {
        pattern: DNS1123_LABEL_PATTERN,
        maxLength: 63,
      },
    ),
    allowCustomImage: def(
      bool(
        'Whether labs may set spec.image to any image instead of choosing an alias. Off by default: admins vet images.',
      ),
      false,
    ),
    pullPolicy: def(
      enumOf(['IfNotPresent', 'Always', 'Never'] as const, 'imagePullPolicy of the lab container.'),
      'IfNotPresent',
    ),
    pullSecrets: arr(
      str('Name of a Secret of type kubernetes.io/dockerconfigjson.', {
        pattern: DNS1123_SUBDOMAIN_PATTERN,
        maxLength: 253,
      }),
      "Image pull Secrets, which must exist in each lab's namespace.",
      { maxItems: 8, listType: 'set' },
    ),
  },
  'The images labs may run.',
  {
    rules: [
      {
        rule: '!has(self.defaultAlias) || self.aliases.exists(a, a.name == self.defaultAlias)',
        message: 'defaultAlias must name one of aliases',
        fieldPath: '.defaultAlias',
        check: (s) => s.defaultAlias === undefined || s.aliases.some((a) => a.name === s.defaultAlias),
      },
      {
        rule: 'self.allowCustomImage || size(self.aliases) > 0',
        message: 'a profile needs at least one alias unless allowCustomImage is true',
        fieldPath: '.aliases',
        check: (s) => s.allowCustomImage || s.aliases.length > 0,
      },
    ],
  },
);

const size = obj(
  {
    name: req(str('Name users pick, e.g. "small".', { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 })),
    description: str('Text shown in the spawner menu, e.g. "1 CPU, 2 GiB".', { maxLength: 256 }),
    requests: req(resourceAmounts),
    limits: req(resourceAmounts),
  },
  'A named size: CPU and memory requests and limits, both explicit so labs are never BestEffort.',
  {
    rules: [
      {
        rule:
          'quantity(string(self.limits.cpu)).compareTo(quantity(string(self.requests.cpu))) >= 0 && ' +
          'quantity(string(self.limits.memory)).compareTo(quantity(string(self.requests.memory))) >= 0',
        message: 'limits must be at least requests for cpu and memory',
        fieldPath: '.limits',
        check: (s) => atLeast(s.limits, s.requests),
      },
    ],
  },
);

const home = obj(
  {
    size: def(
      boundedQuantity('storage', "Capacity requested for each lab's home PersistentVolumeClaim."),
      '10Gi',
    ),
    storageClassName: str('StorageClass of home volumes; the cluster default when unset.', {
      pattern: DNS1123_SUBDOMAIN_PATTERN,
      maxLength: 253,
    }),
    mountPath: def(
      withRules(
        str(
          'Where the home volume is mounted in the lab container; not /tmp, the scratch space of every lab.',
          {
            pattern: '^/[^\\x00]*$',
            maxLength: 256,
          },
        ),
        [
          {
            rule: "self != '/tmp' && self != '/tmp/'",
            message: 'must not be /tmp: every lab mounts its scratch space there',
            check: (v) => v !== '/tmp' && v !== '/tmp/',
          },
        ],
      ),
      JUPYTER_IMAGE_HOME,
    ),
    retainPolicy: def(
      enumOf(
        ['Retain', 'Delete'] as const,
        'What happens to the home PersistentVolumeClaim when its NotebookLab is deleted: Retain keeps it ' +
          '(a lab re-created with the same name gets it back), Delete removes it. Stopping a lab always keeps it.',
      ),
      'Retain',
    ),
  },
  'Home volume policy. Each lab has a persistent home that survives stop and start.',
);

/** The culling defaults of a profile; also the limit of a running lab whose profile is gone (see NotebookLab). */
export const CULLING_DEFAULTS = { idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' } as const;

const culling = obj(
  {
    enabled: def(
      bool('Whether idle labs are stopped. Culling sets spec.state to Stopped; the home is kept.'),
      true,
    ),
    idleTimeout: def(
      duration('How long a lab may go without Jupyter activity before it is stopped.'),
      CULLING_DEFAULTS.idleTimeout,
    ),
    maxLifetime: def(
      duration('How long a lab may run from its start before it is stopped, active or not.'),
      CULLING_DEFAULTS.maxLifetime,
    ),
    warnBefore: def(
      duration(
        'How long before culling the lab gets an IdleWarning condition and Event; shorter than idleTimeout.',
      ),
      CULLING_DEFAULTS.warnBefore,
    ),
  },
  'Idle culling policy.',
  {
    rules: [
      {
        rule: 'duration(self.warnBefore) < duration(self.idleTimeout)',
        message: 'warnBefore must be shorter than idleTimeout',
        fieldPath: '.warnBefore',
        check: (s) => parseDuration(s.warnBefore) < parseDuration(s.idleTimeout),
      },
      {
        rule: 'duration(self.idleTimeout) <= duration(self.maxLifetime)',
        message: 'idleTimeout must not exceed maxLifetime',
        fieldPath: '.idleTimeout',
        check: (s) => parseDuration(s.idleTimeout) <= parseDuration(s.maxLifetime),
      },
    ],
  },
);

const quota = obj(
  {
    maxLabs: def(
      int(
        'Most NotebookLabs one owner may have with this profile (running or stopped); more are refused. A lab ' +
          'whose spec the profile does not accept counts only while it holds a Pod or home claim; labs holding ' +
          'one are admitted first, then the oldest.',
        {
          minimum: 0,
          maximum: 1000,
        },
      ),
      2,
    ),
    maxTotalHomeSize: boundedQuantity(
      'storage',
      'Most home storage one owner may hold across labs of this profile; unlimited when unset.',
    ),
  },
  'Per-owner quota, enforced by the operator with a QuotaExceeded condition.',
);

const security = obj(
  {
    runAsUser: def(int('UID the lab container runs as; never root.', { minimum: 1, format: 'int64' }), 1000),
    runAsGroup: def(int('Primary GID of the lab container.', { minimum: 1, format: 'int64' }), 100),
    fsGroup: def(
      int('GID that owns the home volume, so the user can write to it.', { minimum: 1, format: 'int64' }),
      100,
    ),
    readOnlyRootFilesystem: def(
      bool("Whether the image's root filesystem is read-only (writable /tmp and home are mounted)."),
      true,
    ),
  },
  'Security context of lab Pods. Labs always run non-root, without privilege escalation, with ALL capabilities ' +
    'dropped and the RuntimeDefault seccomp profile (Pod Security "restricted").',
);

const network = obj(
  {
    enabled: def(bool('Whether each lab gets a NetworkPolicy restricting ingress to its server port.'), true),
    ingressNamespaces: def(
      arr(
        str('Namespace name.', { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 }),
        'Namespaces whose Pods may connect to labs (the proxy or portal). Empty admits no other namespace.',
        { maxItems: 16, listType: 'set' },
      ),
      [],
    ),
  },
  'Network policy of labs.',
);

/** Schema of NotebookProfile.spec. */
export const notebookProfileSpec = obj(
  {
    displayName: str('Name shown to users in the spawner menu.', { maxLength: 128 }),
    description: str('Longer text shown to users.', { maxLength: 1024 }),
    images: req(images),
    sizes: req(
      arr(size, 'Named sizes users choose from.', {
        minItems: 1,
        maxItems: 16,
        listType: 'map',
        listMapKeys: ['name'],
      }),
    ),
    defaultSize: req(
      str('Size used when a lab does not name one; must be in sizes.', {
        pattern: DNS1123_LABEL_PATTERN,
        maxLength: 63,
      }),
    ),
    home: def(home, {}),
    culling: def(culling, {}),
    quota: def(quota, {}),
    security: def(security, {}),
    network: def(network, {}),
    urlTemplate: str(
      'External URL of a lab, with {namespace}, {name} and {owner} replaced, e.g. ' +
        '"https://data.example.org/nb/{owner}/{name}/". When unset, status.url is the in-cluster Service URL.',
      { maxLength: 512, pattern: '^https?://' },
    ),
  },
  'What labs using this profile may run and the policies they obey.',
  {
    rules: [
      {
        rule: 'self.sizes.exists(s, s.name == self.defaultSize)',
        message: 'defaultSize must name one of sizes',
        fieldPath: '.defaultSize',
        check: (s) => s.sizes.some((z) => z.name === s.defaultSize),
      },
    ],
  },
);

/** Schema of NotebookProfile.status. */
export const notebookProfileStatus = obj(
  {
    observedGeneration: observedGeneration(),
    conditions: conditions('Ready is True when the profile is usable; False with a reason when it is not.'),
  },
  'Observed state of the profile.',
);

/** NotebookProfile.spec (after apiserver defaulting). */
export type NotebookProfileSpec = Infer<typeof notebookProfileSpec>;
/** NotebookProfile.spec as a user writes it (defaulted fields optional). */
export type NotebookProfileSpecInput = InferInput<typeof notebookProfileSpec>;
/** NotebookProfile.status. */
export type NotebookProfileStatus = Infer<typeof notebookProfileStatus>;
/** One named size of a profile. */
export type NotebookSize = Infer<typeof size>;
/** One image alias of a profile. */
export type NotebookImageAlias = Infer<typeof imageAlias>;
/** Home-volume policy. */
export type HomePolicy = Infer<typeof home>;
/** Culling policy. */
export type CullingPolicy = Infer<typeof culling>;

/** A NotebookProfile as read from the apiserver. */
export interface NotebookProfile extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof NOTEBOOKPROFILE.kind;
  metadata: ObjectMeta;
  spec: NotebookProfileSpec;
  status?: NotebookProfileStatus;
}
