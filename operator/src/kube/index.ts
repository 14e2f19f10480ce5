// Public surface of the Kubernetes access layer: the only module that calls the apiserver.
export * from './client.js';
export * from './errors.js';
export * from './events.js';
export * from './models.js';
