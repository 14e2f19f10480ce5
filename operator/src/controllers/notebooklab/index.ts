// The NotebookLab controller module: its CRD, RBAC, settings (env, chart values and README from one schema) and
// the controller it builds. Registered in ../registry.ts.
import { notebookLabDefinition } from '../../api/v1alpha1/index.js';
import { defineController } from '../../runtime/index.js';
import { JupyterActivityResolver } from './culling/activity.js';
import { notebookLabController } from './controller.js';
import { rbac } from './rbac.js';

/** The NotebookLab controller's settings; `controllers.notebooklab.<key>` in the chart. */
export const notebookLabSettings = {
  activityUrlTemplate: {
    type: 'string',
    env: 'SKYPORT_ACTIVITY_URL_TEMPLATE',
    default: '',
    pattern: { regex: '^https?://', hint: 'must start with http:// or https://' },
    description:
      "Where the culler reads each lab's Jupyter `/api/status`; placeholders `{namespace} {name} {owner} {service} {basePath}`. Empty: `http://{service}.{namespace}.svc:8888{basePath}api/status`.",
  },
  cullCheckInterval: {
    type: 'duration',
    env: 'SKYPORT_CULL_CHECK_INTERVAL',
    default: '60s',
    description: "How often running labs' Jupyter activity is read.",
  },
  podAnnotationPrefixes: {
    type: 'list',
    env: 'SKYPORT_POD_ANNOTATION_PREFIXES',
    default: [],
    reservedPrefix: 'skyport.io/',
    description: 'Lab annotation prefixes copied onto lab Pods (mesh or scrape annotations).',
  },
  homeBindTimeout: {
    type: 'duration',
    env: 'SKYPORT_HOME_BIND_TIMEOUT',
    default: '60s',
    description:
      'How long an immediate-binding home claim may stay unbound before the lab is `HomeVolumePending`.',
  },
} as const;

/** NotebookLab: per-user JupyterLabs with a persistent home, from admin-defined NotebookProfiles. */
export const notebookLab = defineController({
  name: 'notebooklab',
  description: 'NotebookLabs: per-user JupyterLabs with a persistent home.',
  crds: [notebookLabDefinition],
  rbac,
  settings: notebookLabSettings,
  controller: ({ kube, events, settings }) => {
    const resolver = new JupyterActivityResolver(
      settings.activityUrlTemplate === '' ? {} : { urlTemplate: settings.activityUrlTemplate },
    );
    const opts = notebookLabController({
      kube,
      events,
      resolver,
      cullCheckIntervalMs: settings.cullCheckInterval,
      podAnnotationPrefixes: settings.podAnnotationPrefixes,
      homeBindTimeoutMs: settings.homeBindTimeout,
    });
    return { ...opts, onStop: () => resolver.close() };
  },
});
