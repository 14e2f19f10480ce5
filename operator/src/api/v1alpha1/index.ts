// Public surface of skyport.io/v1alpha1: names, types and schemas of every kind.
export * from './group.js';
export * from './common.js';
export * from './notify.js';
export * from './notebooklab.js';
export * from './notebookprofile.js';
export * from './anomalyservice.js';
export * from './imagecollection.js';
export * from './cutoutjob.js';
export * from './catalog.js';
export * from './s3.js';
export * from './queryjob.js';
export * from './crds.js';
export * from './samples.js';
