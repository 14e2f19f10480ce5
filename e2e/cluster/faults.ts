// Annotation names the kwok stages (stages/pod.yaml) react to, for tests that need failing pods.

/** Pod annotation selecting a simulated failure. */
export const FAULT_ANNOTATION = 'e2e.skyport.io/fault';
/** Exit code of a `crash-loop` container (default 1). */
export const EXIT_CODE_ANNOTATION = 'e2e.skyport.io/exit-code';
/** Go duration before a healthy pod turns Running/Ready (default immediately). */
export const READY_AFTER_ANNOTATION = 'e2e.skyport.io/ready-after';
/** Go duration before a Running Job pod completes (default immediately). */
export const COMPLETE_AFTER_ANNOTATION = 'e2e.skyport.io/complete-after';

/**
 * - `image-pull`: stays Pending, containers waiting in ImagePullBackOff
 * - `crash-loop`: Running, not Ready, CrashLoopBackOff with lastState terminated (Error, exit code); Failed if restartPolicy Never
 * - `oom-kill`: like crash-loop with reason OOMKilled and exit code 137
 * - `pending`: never started (stays Pending without container statuses)
 */
export type PodFault = 'image-pull' | 'crash-loop' | 'oom-kill' | 'pending';

/** Annotations for a pod template that should fail the given way. */
export function faultAnnotations(fault: PodFault, opts: { exitCode?: number } = {}): Record<string, string> {
  return {
    [FAULT_ANNOTATION]: fault,
    ...(opts.exitCode !== undefined ? { [EXIT_CODE_ANNOTATION]: String(opts.exitCode) } : {}),
  };
}
