import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parseExperiment } from '../../src/core/spec/experiment';
import { buildStack, routerBundleConfigMap, type KubeObject, type StackOptions } from '../../src/manifests';
import { UNPACK_SCRIPT, type RouterBundle } from '../../src/manifests/stack';
import { ROUTER_APP_FILES } from '../../src/shared/routerFiles';

const bundle: RouterBundle = {
  'router.js': 'console.log("router");\n'.repeat(50_000), // compresses well
  'webview.js': 'document.title = "dashboard";\n',
  'dashboard.css': 'body { margin: 0 }\n',
};
const kind: StackOptions = { namespace: 'mc', platform: 'kind', router: { bundle } };
const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: propensity }
spec:
  endpoint: propensity
  variants:
    - { name: v1, model: m1, role: baseline, weight: 95 }
    - { name: v2, model: m2, weight: 5 }
  metrics:
    primary: { name: conversion, kind: proportion }
`,
  '/ws/experiments/propensity.yaml',
);
const models = ['m1', 'm2'].map((name) => ({ name, folder: name, files: ['model-settings.json'] }));

const binaryData = (cm: KubeObject) => cm.binaryData as Record<string, string>;
const unpack = (objects: KubeObject[]) => {
  const router = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'model-canary-router')!;
  const spec = (router as unknown as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
    .spec as { initContainers: { command: string[]; args: string[] }[] };
  return spec.initContainers[0]!;
};

describe('the router bundle ConfigMap', () => {
  it('carries the router and the dashboard assets, each gzipped under its own key', () => {
    const { configMap } = routerBundleConfigMap(bundle, kind);
    assert.deepEqual(Object.keys(binaryData(configMap)), [
      'router.js.gz',
      'webview.js.gz',
      'dashboard.css.gz',
    ]);
    for (const file of ROUTER_APP_FILES) {
      const gz = Buffer.from(binaryData(configMap)[`${file}.gz`]!, 'base64');
      assert.equal(gunzipSync(gz).toString(), bundle[file], file);
    }
  });

  it('is the same object for the same files, and its hash changes when only the stylesheet does', () => {
    const a = routerBundleConfigMap(bundle, kind);
    assert.deepEqual(routerBundleConfigMap({ ...bundle }, kind), a);
    const b = routerBundleConfigMap({ ...bundle, 'dashboard.css': 'body { margin: 1px }\n' }, kind);
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    assert.notEqual(b.sha256, a.sha256);
    const podAnnotation = (objects: KubeObject[]) =>
      JSON.stringify(
        objects.find((o) => o.metadata.name === 'model-canary-router' && o.kind === 'StatefulSet'),
      );
    const input = { experiment, models };
    assert.equal(podAnnotation(buildStack([input], kind)), podAnnotation(buildStack([input], kind)));
    assert.ok(podAnnotation(buildStack([input], kind)).includes(a.sha256));
  });

  it('refuses files that are over the 1 MiB a ConfigMap holds once gzipped, naming the way out', () => {
    const incompressible = randomBytes(1_500_000).toString('base64');
    assert.throws(
      () => routerBundleConfigMap({ ...bundle, 'webview.js': incompressible }, kind),
      /router bundle and dashboard assets are 1\.5\d MB gzipped, over the 1 MiB .*--router-image/,
    );
  });

  it('the init container runs the unpack script with the bundle and app folders as arguments', () => {
    const init = unpack(buildStack([{ experiment, models }], kind));
    assert.deepEqual(init.command, ['node', '-e', UNPACK_SCRIPT]);
    assert.deepEqual(init.args, ['/etc/model-canary/bundle', '/opt/model-canary']);
    for (const file of ROUTER_APP_FILES) assert.ok(UNPACK_SCRIPT.includes(JSON.stringify(file)), file);
  });
});
