// The cutout runner's positions parser (services/cutout-runner/src/cutout/positions.ts), imported as a workspace
// dependency: the operator refuses bad rows and shards the good ones before any pod runs, with the runner's own
// rules and words (the operator may use a service's module; services never import the operator).
export * from '@skyport/cutout-runner/positions';
