// Public surface of the pure metadata helpers: labels, names, conditions, child metadata.
export * from './labels.js';
export * from './naming.js';
export * from './conditions.js';
export * from './child.js';
export * from './identity.js';
