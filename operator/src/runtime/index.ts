// Public surface of the controller runtime: informers, work queue, controllers, manager, election, probes, clock.
export * from './clock.js';
export * from './key.js';
export * from './ratelimit.js';
export * from './queue.js';
export * from './informer.js';
export * from './controller.js';
export * from './leader.js';
export * from './metrics.js';
export * from './probes.js';
export * from './logger.js';
export * from './manager.js';
export { rbac as runtimeRbac } from './rbac.js';
export * from './settings.js';
export * from './module.js';
export * from './expectations.js';
export * from './transforms.js';
export * from './predicates.js';
export * from './status.js';
