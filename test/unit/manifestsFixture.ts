/** The sample experiment, its models and the stack options the manifest tests share. */
import { parseExperiment, type Experiment } from '../../src/core/spec/experiment';
import { modelRefs, type ExperimentInput, type StackOptions } from '../../src/manifests';

export const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: propensity }
spec:
  endpoint: propensity
  variants:
    - { name: v1, model: propensity-v1, role: baseline, weight: 95 }
    - { name: v2, model: propensity-v2, weight: 5 }
  routing:
    sticky: { header: x-user-id }
    mirror: { variant: v3, model: propensity-v3, percent: 100 }
  metrics:
    primary: { name: conversion, kind: proportion }
  drift: { reference: ../data/reference.csv }
`;

export const experiment: Experiment = parseExperiment(EXPERIMENT, '/ws/experiments/propensity.yaml');
export const models = modelRefs('/ws', [
  {
    name: 'propensity-v1',
    dir: '/ws/models/propensity-v1',
    settingsFile: '',
    implementation: '',
    artifact: '/ws/models/propensity-v1/model.joblib',
  },
  {
    name: 'propensity-v2',
    dir: '/ws/models/propensity-v2',
    settingsFile: '',
    implementation: '',
    artifact: '/ws/models/propensity-v2/model.joblib',
  },
  {
    name: 'propensity-v3',
    dir: '/ws/models/propensity-v3',
    settingsFile: '',
    implementation: '',
    artifact: '/ws/models/propensity-v3/model.joblib',
  },
]);
export const input: ExperimentInput = { experiment, models, referenceCsv: 'age,region\n41,east\n' };
export const bundle = {
  'router.js': 'console.log("router")',
  'webview.js': '/* app */',
  'dashboard.css': '/* css */',
};
export const kind: StackOptions = { namespace: 'mc', platform: 'kind', router: { bundle } };
export const remote: StackOptions = {
  namespace: 'mc',
  platform: 'remote',
  modelSource: { kind: 'http', baseUrl: 'https://models.example.com/base/' },
  router: { bundle },
};
