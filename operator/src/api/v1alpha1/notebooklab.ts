// NotebookLab (namespaced): one user's JupyterLab with a persistent home, started and stopped through spec.state.
import { arr, bool, dateTime, def, enumOf, immutable, int, obj, req, str, withRules } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import type { Infer, InferInput } from '../schema.js';
import {
  conditions,
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  ENV_NAME_PATTERN,
  IMAGE_PATTERN,
  LABEL_VALUE_PATTERN,
  observedGeneration,
  secretKeyRef,
} from './common.js';
import { API_VERSION, NOTEBOOKLAB } from './group.js';

/** Longest NotebookLab name: children are named `<lab>-<component>` and must stay valid DNS labels (≤ 63). */
export const NOTEBOOKLAB_NAME_MAX = 50;

/** The desired states a user may ask for. */
export const LAB_STATES = ['Running', 'Stopped'] as const;
/** A desired state. */
export type LabState = (typeof LAB_STATES)[number];

/** Lifecycle phases reported in status.phase. */
export const LAB_PHASES = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped', 'Failed'] as const;
/** A lifecycle phase. */
export type LabPhase = (typeof LAB_PHASES)[number];

/** States of one progress step. */
export const PROGRESS_STATES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
/** A progress step's state. */
export type ProgressState = (typeof PROGRESS_STATES)[number];

const envVar = obj(
  {
    name: req(str('Name of the environment variable.', { pattern: ENV_NAME_PATTERN, maxLength: 128 })),
    value: str('Literal value.', { maxLength: 32768 }),
    valueFrom: obj({ secretKeyRef: req(secretKeyRef) }, 'Source of the value when it is not literal.'),
  },
  'An environment variable of the lab container: a literal value or a key of a Secret.',
  {
    rules: [
      {
        rule: 'has(self.value) != has(self.valueFrom)',
        message: 'exactly one of value and valueFrom must be set',
        check: (s) => (s.value !== undefined) !== (s.valueFrom !== undefined),
      },
    ],
  },
);

const extraVolume = obj(
  {
    name: req(
      str('Name of the volume, unique within the lab.', { pattern: DNS1123_LABEL_PATTERN, maxLength: 40 }),
    ),
    mountPath: req(
      str('Absolute path in the lab container where the volume is mounted.', {
        pattern: '^/[^\\x00]*$',
        maxLength: 256,
      }),
    ),
    readOnly: def(bool('Whether the volume is mounted read-only.'), false),
    persistentVolumeClaim: obj(
      {
        claimName: req(
          str("Name of an existing PersistentVolumeClaim in the lab's namespace.", {
            pattern: DNS1123_SUBDOMAIN_PATTERN,
            maxLength: 253,
          }),
        ),
      },
      'Mount an existing PersistentVolumeClaim, e.g. a shared dataset.',
    ),
    configMap: obj(
      {
        name: req(
          str("Name of the ConfigMap in the lab's namespace.", {
            pattern: DNS1123_SUBDOMAIN_PATTERN,
            maxLength: 253,
          }),
        ),
      },
      'Mount a ConfigMap as files.',
    ),
    secret: obj(
      {
        secretName: req(
          str("Name of the Secret in the lab's namespace.", {
            pattern: DNS1123_SUBDOMAIN_PATTERN,
            maxLength: 253,
          }),
        ),
      },
      'Mount a Secret as files (mode 0400).',
    ),
  },
  'An extra volume mounted into the lab: exactly one of persistentVolumeClaim, configMap or secret.',
  {
    rules: [
      {
        rule: '(has(self.persistentVolumeClaim) ? 1 : 0) + (has(self.configMap) ? 1 : 0) + (has(self.secret) ? 1 : 0) == 1',
        message: 'exactly one of persistentVolumeClaim, configMap and secret must be set',
        check: (s) =>
          [s.persistentVolumeClaim, s.configMap, s.secret].filter((v) => v !== undefined).length === 1,
      },
    ],
  },
);

/** Schema of NotebookLab.spec. */
export const notebookLabSpec = obj(
  {
    owner: req(
      immutable(
        str(
          'Username of the scientist who owns the lab. Used for quota and as the skyport.io/owner label, so it ' +
            'must be a valid label value. Immutable.',
          { pattern: LABEL_VALUE_PATTERN, maxLength: 63 },
        ),
        'owner is immutable',
      ),
    ),
    profile: req(
      immutable(
        str('Name of the cluster-scoped NotebookProfile the lab uses. Immutable.', {
          pattern: DNS1123_SUBDOMAIN_PATTERN,
          maxLength: 253,
        }),
        'profile is immutable',
      ),
    ),
    imageAlias: str(
      "Image alias from the profile's spec.images.aliases. Mutually exclusive with image; when both are unset " +
        "the profile's defaultAlias is used.",
      { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 },
    ),
    image: str(
      'Explicit image reference, allowed only if the profile sets images.allowCustomImage. Mutually exclusive ' +
        'with imageAlias.',
      { pattern: IMAGE_PATTERN, maxLength: 512 },
    ),
    size: str("Named size from the profile's spec.sizes; the profile's defaultSize when unset.", {
      pattern: DNS1123_LABEL_PATTERN,
      maxLength: 63,
    }),
    state: def(
      enumOf(
        LAB_STATES,
        'Desired state: Running starts the lab, Stopped deletes its Pod and keeps its home volume. Culling sets ' +
          'Stopped.',
      ),
      'Running',
    ),
    env: arr(envVar, 'Extra environment variables of the lab container.', {
      maxItems: 64,
      listType: 'map',
      listMapKeys: ['name'],
    }),
    volumes: withRules(
      arr(extraVolume, 'Extra volumes mounted into the lab besides its home.', {
        maxItems: 16,
        listType: 'map',
        listMapKeys: ['name'],
      }),
      [
        {
          rule: 'self.all(v, self.filter(w, w.mountPath == v.mountPath).size() == 1)',
          message: 'mountPath must be unique across volumes',
          check: (s) => new Set(s.map((v) => v.mountPath)).size === s.length,
        },
      ],
    ),
  },
  'Desired state of the lab.',
  {
    rules: [
      {
        rule: '!(has(self.image) && has(self.imageAlias))',
        message: 'image and imageAlias are mutually exclusive: set at most one',
        fieldPath: '.image',
        reason: 'FieldValueForbidden',
        check: (s) => !(s.image !== undefined && s.imageAlias !== undefined),
      },
    ],
  },
);

const progressStep = obj(
  {
    name: req(
      str('Step name, e.g. HomeVolume, Pod, ImagePulled, ServerReady.', {
        pattern: '^[A-Za-z][A-Za-z0-9]*$',
        maxLength: 64,
      }),
    ),
    state: req(enumOf(PROGRESS_STATES, 'Pending, Running, Succeeded or Failed.')),
    message: str('What is happening or went wrong in this step.', { maxLength: 1024 }),
    startedAt: dateTime('When the step started.'),
    finishedAt: dateTime('When the step succeeded or failed.'),
  },
  'One step of starting the lab.',
);

const lastTermination = obj(
  {
    reason: req(
      str(
        'Why the lab last stopped or its container last ended, e.g. User, Culled, MaxLifetime, OOMKilled, Error.',
        {
          maxLength: 128,
        },
      ),
    ),
    message: str("Details, e.g. the container's termination message or the exit code.", { maxLength: 4096 }),
    at: req(dateTime('When it happened.')),
    exitCode: int('Exit code of the lab container, when it exited.'),
  },
  'The last time the lab stopped or its container ended.',
);

/** Schema of NotebookLab.status. */
export const notebookLabStatus = obj(
  {
    observedGeneration: observedGeneration(),
    phase: enumOf(LAB_PHASES, 'Lifecycle phase: Pending, Starting, Running, Stopping, Stopped or Failed.'),
    message: str('Human-readable summary of the phase.', { maxLength: 4096 }),
    url: str('URL of the running lab.', { maxLength: 1024 }),
    image: str(
      'The image the lab runs, with its alias resolved: while a server runs, its own image (an older one until the ' +
        'next start if the alias has moved since, see the UpdatePending condition); otherwise the one it will start.',
      { maxLength: 512 },
    ),
    size: str("The size the lab runs with, after applying the profile's default.", { maxLength: 63 }),
    homeClaimName: str(
      "Name of the lab's home PersistentVolumeClaim, while it exists or the lab is starting (a lab created " +
        'Stopped has none until it first starts).',
      { maxLength: 253 },
    ),
    conditions: conditions(
      'Ready (the server answers), Progressing (starting or stopping), Degraded (a terminal or persistent ' +
        'problem, with a stable reason such as ImagePullFailed, CrashLoop, OOMKilled, Unschedulable, QuotaExceeded, ' +
        'NameConflict: a child name is held by an object the lab did not make), ' +
        'IdleWarning (about to be culled) and UpdatePending (the running server predates a change of the spec or ' +
        'profile, e.g. a moved image alias; it applies at the next start).',
    ),
    // Atomic: only the operator writes it, always whole. A keyed (map) list would make every status write track
    // each step's fields in managedFields — 26 % more apiserver CPU for a Running lab's status (bench:requests).
    progress: arr(
      progressStep,
      'Steps of the current start, in order, with timestamps. Written whole by the operator (one entry per step name).',
      { maxItems: 32, listType: 'atomic' },
    ),
    startedAt: dateTime('When the lab last started running (maxLifetime counts from here).'),
    lastActivity: dateTime("Last Jupyter activity seen (from the server's /api/status last_activity)."),
    cullAt: dateTime('When the lab will be stopped for idleness or lifetime unless there is activity.'),
    lastTermination,
  },
  'Observed state of the lab.',
);

/** NotebookLab.spec (after apiserver defaulting). */
export type NotebookLabSpec = Infer<typeof notebookLabSpec>;
/** NotebookLab.spec as a user writes it (defaulted fields optional). */
export type NotebookLabSpecInput = InferInput<typeof notebookLabSpec>;
/** NotebookLab.status. */
export type NotebookLabStatus = Infer<typeof notebookLabStatus>;
/** One environment variable of a lab. */
export type LabEnvVar = Infer<typeof envVar>;
/** One extra volume of a lab. */
export type LabVolume = Infer<typeof extraVolume>;
/** One progress step. */
export type ProgressStep = Infer<typeof progressStep>;
/** The last termination record. */
export type LastTermination = Infer<typeof lastTermination>;

/** A NotebookLab as read from the apiserver. */
export interface NotebookLab extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof NOTEBOOKLAB.kind;
  metadata: ObjectMeta;
  spec: NotebookLabSpec;
  status?: NotebookLabStatus;
}
