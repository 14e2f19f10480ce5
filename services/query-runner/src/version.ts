// The runner's version, recorded in every provenance manifest; a unit test keeps it equal to package.json's.

export const RUNNER_VERSION = '0.1.0';
