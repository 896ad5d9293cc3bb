import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { scanWorkspace } from '../../src/core/workspace/discover';
import {
  applyObjects,
  kubeRequest,
  listObjects,
  loadKubeConfig,
  promote,
  readLive,
  serverSideApply,
  summarizePreview,
  type ConfirmQuestion,
  type PromoteOptions,
  type Preview,
} from '../../src/kube';
import { readLiveStack } from '../../src/kube/stackState';
import { readAdminToken } from '../../src/kube/adminToken';
import {
  ANNOTATION_PROMOTED_FROM,
  buildStack,
  modelRefs,
  stackNames,
  type ExperimentInput,
} from '../../src/manifests';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { fakeDeploymentController } from '../harness/kubeFakeController';
import { SAMPLE_MODELS } from '../harness/tools';

const NS = 'models';
const names = stackNames();

describe('promotion between two API servers (local and remote contexts over two KUBECONFIG files)', function () {
  let local: KubeApiServer | undefined;
  let remote: KubeApiServer | undefined;
  let tmp: string;
  let kc: KubeConfig;
  let input: ExperimentInput;
  let controllers: { stop(): Promise<void> }[] = [];
  // Router bundle stand-ins: the promotion tests never run them.
  const bundle = {
    'router.js': '/* router bundle stand-in: the promotion tests never run it */\nconsole.log("router");\n',
    'webview.js': '/* dashboard stand-in */\n',
    'dashboard.css': '/* stylesheet stand-in */\n',
  };

  before(async function () {
    const started = await Promise.allSettled([startKubeApiServer(), startKubeApiServer()]);
    local = started[0]?.status === 'fulfilled' ? started[0].value : undefined;
    remote = started[1]?.status === 'fulfilled' ? started[1].value : undefined;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-promote-'));
    const fileA = path.join(tmp, 'local.yaml');
    const fileB = path.join(tmp, 'remote.yaml');
    // The local file has the kind cluster's context; the other holds the shared cluster twice:
    // as `remote` and as a protected `prod-eu` (same server, its own namespace models-prod), and
    // `ops-alias`, an unprotected name for the same server.
    await fs.promises.writeFile(fileA, local!.kubeconfigFor('kind-model-canary'), { mode: 0o600 });
    const b = parse(remote!.kubeconfigFor('remote', 'shared', 'shared-admin'));
    b.contexts.push({
      name: 'prod-eu',
      context: { cluster: 'shared', user: 'shared-admin', namespace: 'models-prod' },
    });
    b.contexts.push({ name: 'ops-alias', context: { cluster: 'shared', user: 'shared-admin' } });
    await fs.promises.writeFile(fileB, JSON.stringify(b), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: [fileA, fileB].join(path.delimiter) });

    const scan = await scanWorkspace(SAMPLE_MODELS);
    input = {
      experiment: scan.experiments.find((e) => e.name === 'propensity')!.experiment!,
      models: modelRefs(scan.root, scan.models),
      referenceCsv: await fs.promises.readFile(path.join(SAMPLE_MODELS, 'data/reference.csv'), 'utf8'),
    };
    // The local (kind) environment runs the experiment, with the split moved to 75/25 by hand.
    await applyObjects(
      kc,
      'kind-model-canary',
      buildStack([{ ...input, weights: { v1: 75, v2: 25 } }], {
        namespace: 'model-canary',
        platform: 'kind',
        router: { bundle },
      }) as KubernetesObject[],
    );
    controllers = [
      fakeDeploymentController(kc, 'remote', NS),
      fakeDeploymentController(kc, 'prod-eu', 'models-prod'),
    ];
  });

  after(async function () {
    await Promise.all(controllers.map((c) => c.stop()));
    await Promise.all([local?.stop(), remote?.stop()]);
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  /** Options for a promotion to `context`, recording every question and preview. */
  /** Another field manager ("ops-team") takes a Service's type over on the remote context. */
  async function opsTeamTakesOver(service: string): Promise<void> {
    await serverSideApply(
      kc,
      'remote',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: service, namespace: NS },
        spec: { type: 'NodePort' },
      },
      { fieldManager: 'ops-team', force: true },
    );
  }

  function options(
    context: string,
    answers: (string | boolean)[],
    extra: Partial<PromoteOptions> = {},
  ): PromoteOptions & { asked: ConfirmQuestion[]; previews: Preview[] } {
    const asked: ConfirmQuestion[] = [];
    const previews: Preview[] = [];
    return {
      context,
      namespace: NS,
      plan: 'canary',
      source: 'kind-model-canary/model-canary',
      stack: {
        platform: 'remote',
        modelSource: { kind: 'http', baseUrl: 'https://models.example.com/propensity' },
        router: { bundle },
      },
      waitTimeoutMs: 20_000,
      undoFile: path.join(tmp, `${context}-undo.yaml`),
      confirm: async (q) => {
        asked.push(q);
        return answers.shift() ?? false;
      },
      onPreview: (p) => {
        previews.push(p);
      },
      ...extra,
      asked,
      previews,
    };
  }

  const remoteConfigMaps = (context = 'remote', ns = NS): Promise<KubernetesObject[]> =>
    listObjects(kc, context, 'v1', 'ConfigMap', ns, 'app.kubernetes.io/managed-by=model-canary').catch(
      () => [],
    );

  it('refuses the local kind context as a promotion target unless --allow-kind', async function () {
    await assert.rejects(
      promote(kc, input, options('kind-model-canary', [true])),
      /local kind cluster, not a promotion target/,
    );
  });

  it('a dry run shows the server-side diff and applies nothing', async function () {
    const o = options('remote', [], { dryRun: true });
    const result = await promote(kc, input, o);
    assert.equal(result.status, 'dry-run');
    assert.equal(o.asked.length, 0);
    assert.equal(o.previews.length, 1);
    assert.ok(result.preview.changes.every((c) => c.action === 'create'));
    assert.match(result.preview.diff, /^\+\+\+ planned: Deployment models\/propensity-v2$/m);
    assert.match(result.preview.diff, /^\+\s+image: seldonio\/mlserver:1\.7\.1-sklearn$/m);
    // Validated by the server even though the namespace is not there yet (defaults filled in).
    assert.match(result.preview.diff, /^\+\s+terminationMessagePath: \/dev\/termination-log$/m);
    assert.equal(
      await readLive(kc, 'remote', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }),
      undefined,
    );
  });

  it('shows the diff and applies nothing when the confirmation is declined', async function () {
    const o = options('remote', [false]);
    const result = await promote(kc, input, o);
    assert.equal(result.status, 'declined');
    assert.equal(o.asked.length, 1);
    assert.equal(o.asked[0]?.kind, 'yes-no');
    assert.match(
      o.asked[0]!.message,
      /Apply \d+ change\(s\) to remote\/models \(and create the router's admin-token Secret model-canary-router-admin\)\?/,
    );
    assert.ok(o.previews[0]!.diff.length > 0);
    assert.equal(
      await readLive(kc, 'remote', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }),
      undefined,
    );
    assert.deepEqual(await remoteConfigMaps(), []);
  });

  it('applies everything once confirmed: the candidate at 5%, rolled out, annotated, with an Event', async function () {
    const o = options('remote', ['y']);
    const progress: string[] = [];
    const result = await promote(kc, input, { ...o, onProgress: (m) => progress.push(m) });
    assert.equal(result.status, 'applied', result.error);
    assert.deepEqual(result.weights, { v1: 95, v2: 5 });
    assert.ok(result.applied.length >= 15, `${result.applied.length} objects`);
    assert.ok(result.applied.every((a) => a.action === 'created'));
    assert.deepEqual(
      result.rollouts.map((r) => r.done),
      result.rollouts.map(() => true),
    );
    assert.ok(result.rollouts.length === 4, 'the router and three model servers');
    assert.match(result.undo ?? '', /kubectl --context remote delete namespace models/);
    // The router's admin token: created on the target, listed as applied, its value in no diff.
    assert.ok(result.applied.some((a) => a.ref === `Secret ${NS}/model-canary-router-admin`));
    const token = await readAdminToken(kc, 'remote', { namespace: NS });
    assert.match(token ?? '', /^[0-9a-f]{48}$/);
    assert.ok(!result.preview.diff.includes(token!));
    for (const a of result.applied) {
      const live = await readLive(kc, 'remote', a.result);
      assert.equal(
        live?.metadata?.annotations?.[ANNOTATION_PROMOTED_FROM],
        'kind-model-canary/model-canary',
        a.ref,
      );
    }
    const stack = await readLiveStack(kc, 'remote', { namespace: NS, platform: 'remote' });
    assert.deepEqual(
      stack.config?.experiments?.[0]?.variants.map((v) => [v.name, v.weight]),
      [
        ['v1', 95],
        ['v2', 5],
      ],
    );
    const events = await listObjects<KubernetesObject & { reason: string; message: string }>(
      kc,
      'remote',
      'v1',
      'Event',
      NS,
    );
    const promoted = events.filter((e) => e.reason === 'Promoted');
    assert.equal(promoted.length, 1);
    assert.match(
      promoted[0]!.message,
      /experiment propensity promoted from kind-model-canary\/model-canary \(plan canary: v1=95 v2=5\)/,
    );
    assert.ok(
      progress.some((p) => /propensity-v2: 1 of 1 available/.test(p)),
      progress.join('\n'),
    );
  });

  it('a second promotion shows an empty diff and asks nothing', async function () {
    const o = options('remote', [true]);
    const result = await promote(kc, input, o);
    assert.equal(result.status, 'unchanged');
    assert.equal(result.preview.diff, '');
    assert.ok(result.preview.changes.every((c) => c.action === 'unchanged'));
    assert.equal(o.asked.length, 0);
  });

  it('plan as-is carries the live weights: the diff is the router config alone', async function () {
    const live = await readLiveStack(kc, 'kind-model-canary', {
      namespace: 'model-canary',
      platform: 'kind',
    });
    const sourceWeights = Object.fromEntries(
      live.config!.experiments![0]!.variants.map((v) => [v.name, v.weight]),
    );
    assert.deepEqual(sourceWeights, { v1: 75, v2: 25 });
    const o = options('remote', [], { plan: 'as-is', sourceWeights, yes: true });
    const result = await promote(kc, input, o);
    assert.equal(result.status, 'applied', result.error);
    assert.equal(o.asked.length, 0, '--yes skips the question on a context that is not protected');
    assert.deepEqual(
      result.preview.changes.filter((c) => c.action !== 'unchanged').map((c) => c.ref),
      [`ConfigMap ${NS}/${names.routerConfig}`],
    );
    assert.match(result.preview.diff, /^-\s+weight: 95$/m);
    assert.match(result.preview.diff, /^\+\s+weight: 75$/m);
    // The changed object was saved before the apply, so the undo can restore it.
    const undo = await fs.promises.readFile(o.undoFile!, 'utf8');
    assert.match(undo, /weight: 95/);
    assert.match(result.undo ?? '', /apply --server-side .* -f .*remote-undo\.yaml/);
  });

  it('a protected context needs its name typed; --yes does not skip that', async function () {
    const first = options('prod-eu', ['yes'], { namespace: 'models-prod', yes: true });
    const declined = await promote(kc, input, first);
    assert.equal(declined.status, 'declined');
    assert.equal(first.asked[0]?.kind, 'type-context');
    assert.equal(first.asked[0]?.expect, 'prod-eu');
    assert.match(first.asked[0]!.message, /prod-eu is a protected context\. Type its name/);
    assert.deepEqual(await remoteConfigMaps('prod-eu', 'models-prod'), []);

    const second = options('prod-eu', ['prod-eu'], { namespace: 'models-prod' });
    const applied = await promote(kc, input, second);
    assert.equal(applied.status, 'applied', applied.error);
    assert.ok((await remoteConfigMaps('prod-eu', 'models-prod')).length >= 2);
  });

  it("an alias of the protected context's server and namespace needs the typed confirmation too", async function () {
    const alias = options('ops-alias', ['yes'], {
      namespace: 'models-prod',
      yes: true,
      plan: 'as-is',
      sourceWeights: { v1: 80, v2: 20 },
    });
    const declined = await promote(kc, input, alias);
    assert.equal(declined.status, 'declined');
    assert.equal(alias.asked[0]?.kind, 'type-context');
    assert.equal(alias.asked[0]?.expect, 'ops-alias');
    assert.match(
      alias.asked[0]!.message,
      /ops-alias points at the same cluster and namespace as the protected context prod-eu\. Type its name/,
    );
  });

  it('says in the summary when the plan resets a live split', async function () {
    const o = options('prod-eu', [false], { namespace: 'models-prod', dryRun: true });
    const result = await promote(kc, input, { ...o, sourceWeights: { v1: 70, v2: 30 }, plan: 'as-is' });
    assert.equal(result.status, 'dry-run');
    assert.ok(
      result.preview.notes?.some((n) =>
        /^plan as-is sets the split v1=70 v2=30 on prod-eu\/models-prod, which runs v1=95 v2=5 now$/.test(n),
      ),
      JSON.stringify(result.preview.notes),
    );
    assert.match(summarizePreview(result.preview), /^! plan as-is sets the split v1=70 v2=30/m);
  });

  it('a failure part-way says what was applied and how to undo it', async function () {
    // Someone else takes over a field of the last object between the diff and the apply.
    const o = options('remote', [true], {
      onPreview: async () => {
        await opsTeamTakesOver('propensity-v3');
      },
    });
    const newInput = {
      ...input,
      experiment: {
        ...input.experiment,
        spec: {
          ...input.experiment.spec,
          routing: {
            ...input.experiment.spec.routing,
            mirror: { ...input.experiment.spec.routing!.mirror!, percent: 50 },
          },
        },
      },
    };
    const result = await promote(kc, newInput, { ...o, plan: 'as-is', sourceWeights: { v1: 90, v2: 10 } });
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /applying Service models\/propensity-v3 to remote failed: .*ops-team/);
    assert.ok(
      result.applied.some(
        (a) => a.ref === `ConfigMap ${NS}/${names.routerConfig}` && a.action === 'configured',
      ),
    );
    assert.match(
      result.undo ?? '',
      /kubectl --context remote apply --server-side --force-conflicts --field-manager model-canary -f /,
    );
    const events = await listObjects<KubernetesObject & { reason: string; type: string }>(
      kc,
      'remote',
      'v1',
      'Event',
      NS,
    );
    assert.ok(events.some((e) => e.reason === 'PromotionFailed' && e.type === 'Warning'));
    const cm = await readLive<V1ConfigMap>(kc, 'remote', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: names.routerConfig, namespace: NS },
    });
    assert.match(cm!.data!['router.yaml']!, /weight: 90/);
    const res = await kubeRequest(kc, 'remote', `/api/v1/namespaces/${NS}/services/propensity-v3`);
    assert.match(res.text, /"type":"NodePort"/);
  });

  it('a field-manager conflict shows the diff and the conflict together, and applies nothing without --force', async function () {
    await opsTeamTakesOver('propensity-v1');
    const o = options('remote', [true], { sourceWeights: { v1: 60, v2: 40 }, plan: 'as-is' });
    await assert.rejects(
      promote(kc, input, o),
      /other field managers own fields .*propensity-v1 \(ops-team\).* pass --force to take them over/,
    );
    assert.equal(o.previews.length, 1, 'the diff was shown first');
    assert.ok(o.previews[0]!.diff.length > 0);
    assert.ok(
      o.previews[0]!.conflicts?.some((c) => /propensity-v1/.test(c.ref) && c.managers.includes('ops-team')),
    );
    assert.match(
      summarizePreview(o.previews[0]!),
      /propensity-v1 update \(conflict: fields owned by ops-team\)/,
    );
    assert.equal(o.asked.length, 0, 'nothing was asked, nothing applied');
  });
});
