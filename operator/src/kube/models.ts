// client-node's models as the plain JSON the apiserver sends and the informers cache: times are strings.
// Same names as client-node's, so a module switches by its import line; their typings say `Date` where the
// wire (and so every object this operator reads) has an RFC 3339 string.
import type * as k8s from '@kubernetes/client-node';
import type { Json } from '../api/object.js';

/** core/v1 Pod as plain JSON. */
export type V1Pod = Json<k8s.V1Pod>;
/** core/v1 ContainerStatus as plain JSON. */
export type V1ContainerStatus = Json<k8s.V1ContainerStatus>;
/** core/v1 PersistentVolumeClaim as plain JSON. */
export type V1PersistentVolumeClaim = Json<k8s.V1PersistentVolumeClaim>;
/** core/v1 Secret as plain JSON. */
export type V1Secret = Json<k8s.V1Secret>;
/** core/v1 Service as plain JSON. */
export type V1Service = Json<k8s.V1Service>;
/** networking/v1 NetworkPolicy as plain JSON. */
export type V1NetworkPolicy = Json<k8s.V1NetworkPolicy>;
/** networking/v1 NetworkPolicySpec as plain JSON. */
export type V1NetworkPolicySpec = Json<k8s.V1NetworkPolicySpec>;
/** networking/v1 NetworkPolicyPeer as plain JSON. */
export type V1NetworkPolicyPeer = Json<k8s.V1NetworkPolicyPeer>;
/** networking/v1 NetworkPolicyPort as plain JSON. */
export type V1NetworkPolicyPort = Json<k8s.V1NetworkPolicyPort>;
/** core/v1 EnvVar as plain JSON. */
export type V1EnvVar = Json<k8s.V1EnvVar>;
/** core/v1 Volume as plain JSON. */
export type V1Volume = Json<k8s.V1Volume>;
/** core/v1 VolumeMount as plain JSON. */
export type V1VolumeMount = Json<k8s.V1VolumeMount>;
