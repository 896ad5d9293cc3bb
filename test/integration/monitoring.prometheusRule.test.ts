/**
 * The PrometheusRule of `export --target prometheus` against prometheus-operator's own schema: its
 * CustomResourceDefinition (test/fixtures/crds/prometheus-operator/, copied byte for byte, see the
 * README there) is installed into a real kube-apiserver, and the exported object is server-side
 * applied with dryRun=All, then for real and read back.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { ensureNamespace, installCrds, loadKubeConfig, readLive, serverSideApply } from '../../src/kube';
import { exportManifests } from '../../src/operations/exportManifests';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const CRD = path.join(
  REPO_ROOT,
  'test/fixtures/crds/prometheus-operator/monitoring.coreos.com_prometheusrules.yaml',
);
const CONTEXT = 'monitoring';

function documents(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null);
}

describe('export --target prometheus: the PrometheusRule against its CRD on a real API server', function () {
  this.timeout(120_000);
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;

  before(async function () {
    server = await startKubeApiServer();
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-promrule-'));
    await fs.promises.writeFile(path.join(tmp, 'kubeconfig'), server.kubeconfigFor(CONTEXT), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: path.join(tmp, 'kubeconfig') });
    await installCrds(kc, CONTEXT, documents(await fs.promises.readFile(CRD, 'utf8')));
    await ensureNamespace(kc, CONTEXT, 'monitoring');
  });

  after(async function () {
    await server?.stop();
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it('is accepted by the schema (dry run, then applied) and keeps every group and rule', async function () {
    const result = await exportManifests({
      workspace: SAMPLE_MODELS,
      experiment: path.join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
      target: 'prometheus',
      out: tmp,
      namespace: 'monitoring',
    });
    const [plain, operator] = await Promise.all(result.files.map((f) => fs.promises.readFile(f, 'utf8')));
    const objects = documents(operator!);
    assert.equal(objects.length, 1);
    const rule = objects[0]!;
    assert.deepEqual(
      [rule.kind, rule.metadata?.name, rule.metadata?.namespace],
      ['PrometheusRule', 'model-canary-propensity', 'monitoring'],
    );
    const dry = await serverSideApply(kc, CONTEXT, rule, { dryRun: true });
    assert.equal(dry.metadata?.name, 'model-canary-propensity');
    await serverSideApply(kc, CONTEXT, rule);
    const live = await readLive<KubernetesObject & { spec: unknown }>(kc, CONTEXT, rule);
    assert.deepEqual(live?.spec, parse(plain!));
    // The schema does check: a group without a name is refused.
    const nameless = { ...rule, spec: { groups: [{ rules: [{ record: 'x:y', expr: '1' }] }] } };
    await assert.rejects(serverSideApply(kc, CONTEXT, nameless, { dryRun: true }), /name/);
  });
});
