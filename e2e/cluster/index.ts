// Public API of the local-cluster toolkit used by every e2e suite and the operator's e2e helpers.
export {
  DEFAULT_STORAGE_CLASS,
  POD_CIDR,
  SERVICE_CIDR,
  attachCluster,
  componentLiveness,
  defaultStorageClass,
  fakeNodes,
  kwokStagesConfig,
  readClusterState,
  startCluster,
  stopClusterAt,
  volumeRootOf,
  type ClusterHandle,
  type ClusterOptions,
  type ClusterState,
  type ComponentName,
} from './cluster.js';
export {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubeconfigForToken,
  serviceAccountToken,
  uniqueName,
  type EventuallyOptions,
} from './helpers.js';
export { buildKubeconfig, type KubeconfigSpec, type KubeconfigUser } from './kubeconfig.js';
export {
  binDir,
  cacheRoot,
  controlPlaneCacheDir,
  defaultRunDir,
  nodeCacheDir,
  parseEnvFile,
  readVersions,
  repoRoot,
} from './paths.js';
export { freePort, freePorts } from './ports.js';
export { ComponentError, startComponent, stopProcess, tailFile, type ComponentRecord } from './process.js';
export { kubectl, kubectlJson, helm, runTool, ToolError, type RunOptions } from './tools.js';
export {
  COMPLETE_AFTER_ANNOTATION,
  EXIT_CODE_ANNOTATION,
  FAULT_ANNOTATION,
  READY_AFTER_ANNOTATION,
  faultAnnotations,
  type PodFault,
} from './faults.js';
