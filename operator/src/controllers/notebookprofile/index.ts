// The NotebookProfile controller module: serves the NotebookProfile CRD and writes each profile's `Ready`
// condition (status.ts). Registered in ../registry.ts.
import type { NotebookProfile, NotebookProfileStatus } from '../../api/v1alpha1/index.js';
import { API_VERSION, NOTEBOOKPROFILE, notebookProfileDefinition } from '../../api/v1alpha1/index.js';
import { StatusWriter, defineController, generationChanged } from '../../runtime/index.js';
import type { ControllerOptions } from '../../runtime/index.js';
import { rbac } from './rbac.js';
import { profileStatus, sameProfileStatus } from './status.js';

/** NotebookProfile: admins' menus of images, sizes and policies; `Ready` says whether labs can use one. */
export const notebookProfile = defineController({
  name: 'notebookprofile',
  description: 'NotebookProfiles: the Ready condition of each admin-defined lab menu.',
  crds: [notebookProfileDefinition],
  rbac,
  settings: {},
  controller: ({ kube }): ControllerOptions<NotebookProfile> => {
    const status = new StatusWriter<NotebookProfileStatus>({ kube, same: sameProfileStatus });
    return {
      name: 'notebookprofile',
      for: { apiVersion: API_VERSION, kind: NOTEBOOKPROFILE.kind, clusterScoped: true },
      // Only a new spec (generation) can change the verdict; our own status writes come back as updates.
      updatePredicate: generationChanged,
      reconcile: async (ctx) => {
        if (ctx.object === undefined) return;
        // The informer holds NotebookProfiles as the apiserver stored them.
        const profile = status.fresh(ctx.object);
        if (profile.metadata.deletionTimestamp !== undefined) {
          status.forget(profile.metadata.uid ?? '');
          return;
        }
        const next = profileStatus(profile, new Date());
        const w = await status.write(profile, next);
        if (w.wrote)
          ctx.log.info(
            { ready: next.conditions?.[0]?.status, reason: next.conditions?.[0]?.reason },
            'Updated profile status',
          );
      },
    };
  },
});
