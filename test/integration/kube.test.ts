import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiException, KubeConfig, KubernetesObjectApi, VersionApi } from '@kubernetes/client-node';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  ApplyConflictError,
  ensureNamespace,
  forContext,
  listContexts,
  loadKubeConfig,
  serverSideApply,
} from '../../src/kube';
import { kubeBinaries, startKubeApiServer } from '../harness/kubeApiServer';
import type { KubeApiServer } from '../harness/kubeApiServer';

const NS = 'canary-demo';
const NAME = 'iris-classifier';

function deployment(replicas: number, image = 'nginx:1.27.3'): V1Deployment {
  const labels = { 'app.kubernetes.io/name': NAME };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NS, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'server', image, ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

/** Reads an object back through a context, bypassing the code under test. */
async function read<T extends KubernetesObject>(
  kc: KubeConfig,
  context: string,
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): Promise<T> {
  const client = KubernetesObjectApi.makeApiClient(forContext(kc, context));
  return client.read<T>({ apiVersion, kind, metadata: { name, namespace } });
}

describe('Kubernetes API server (real kube-apiserver + etcd)', function () {
  let local: KubeApiServer | undefined;
  let remote: KubeApiServer | undefined;
  let tmp: string;
  let fileA: string;
  let fileB: string;
  let kc: KubeConfig;

  before(async function () {
    const started = await Promise.allSettled([startKubeApiServer(), startKubeApiServer()]);
    local = started[0]?.status === 'fulfilled' ? started[0].value : undefined;
    remote = started[1]?.status === 'fulfilled' ? started[1].value : undefined;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason; // `after` stops whichever one did start

    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'model-canary-kubeconfig-'));
    fileA = path.join(tmp, 'a.yaml');
    fileB = path.join(tmp, 'b.yaml');
    // One logical kubeconfig spread over two files, each holding one context with its own cluster and user.
    await fs.promises.writeFile(fileA, local!.kubeconfigFor('local', 'local-cluster', 'local-admin'), {
      mode: 0o600,
    });
    await fs.promises.writeFile(fileB, remote!.kubeconfigFor('remote', 'remote-cluster', 'remote-admin'), {
      mode: 0o600,
    });
    kc = loadKubeConfig({ KUBECONFIG: [fileA, fileB].join(path.delimiter) });
  });

  after(async function () {
    await Promise.all([local?.stop(), remote?.stop()]);
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it('lists the contexts of both KUBECONFIG files with their servers', function () {
    assert.deepEqual(listContexts(kc), [
      {
        name: 'local',
        cluster: 'local-cluster',
        namespace: 'default',
        user: 'local-admin',
        server: local!.url,
        current: true, // the first file's current-context wins, as in kubectl
      },
      {
        name: 'remote',
        cluster: 'remote-cluster',
        namespace: 'default',
        user: 'remote-admin',
        server: remote!.url,
        current: false,
      },
    ]);
    assert.notEqual(local!.url, remote!.url);
  });

  it('reaches both servers, each running the pinned kube-apiserver version', async function () {
    const pinned = kubeBinaries().kubernetesVersion;
    for (const context of ['local', 'remote']) {
      const info = await forContext(kc, context).makeApiClient(VersionApi).getCode();
      assert.equal(info.gitVersion, pinned, `${context} reports ${info.gitVersion}`);
    }
  });

  it("agrees with client-node's own loadFromDefault merge of KUBECONFIG", function () {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [fileA, fileB].join(path.delimiter);
    try {
      const theirs = new KubeConfig();
      theirs.loadFromDefault();
      const pick = (c: { name: string; server: string | undefined }): string[] => [c.name, String(c.server)];
      assert.deepEqual(listContexts(theirs).map(pick), listContexts(kc).map(pick));
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('creates a namespace through the local context, idempotently', async function () {
    const created = await ensureNamespace(kc, 'local', NS);
    assert.equal(created.metadata?.name, NS);
    assert.equal(created.status?.phase, 'Active');
    const managers = (created.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
    assert.deepEqual(managers, ['model-canary/Apply']);
    const again = await ensureNamespace(kc, 'local', NS);
    assert.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion);
  });

  it('server-side applies a Deployment and records model-canary as its Apply field manager', async function () {
    const applied = await serverSideApply(kc, 'local', deployment(1));
    assert.equal(applied.metadata?.namespace, NS);

    const stored = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    assert.equal(stored.metadata?.uid, applied.metadata?.uid);
    assert.equal(stored.spec?.replicas, 1);
    assert.equal(stored.spec?.template.spec?.containers[0]?.image, 'nginx:1.27.3');
    assert.equal(stored.metadata?.labels?.['app.kubernetes.io/name'], NAME);
    const managers = (stored.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
    assert.deepEqual(managers, ['model-canary/Apply']);
  });

  it('is idempotent: re-applying the same object keeps the resourceVersion', async function () {
    const before = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    const reapplied = await serverSideApply(kc, 'local', deployment(1));
    assert.ok(before.metadata?.resourceVersion);
    assert.equal(reapplied.metadata?.resourceVersion, before.metadata.resourceVersion);
    assert.equal(reapplied.metadata?.generation, before.metadata.generation);
  });

  it('dry-run apply computes the change without persisting it', async function () {
    const before = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    const preview = await serverSideApply(kc, 'local', deployment(1, 'nginx:1.27.4'), { dryRun: true });
    assert.equal(preview.spec?.template.spec?.containers[0]?.image, 'nginx:1.27.4');
    const after = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    assert.equal(after.spec?.template.spec?.containers[0]?.image, 'nginx:1.27.3');
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });

  it('applying a change produces a new resourceVersion', async function () {
    const before = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    const changed = await serverSideApply(kc, 'local', deployment(2));
    assert.equal(changed.spec?.replicas, 2);
    assert.notEqual(changed.metadata?.resourceVersion, before.metadata?.resourceVersion);
    const stored = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    assert.equal(stored.spec?.replicas, 2);
  });

  it('a second field manager setting a field model-canary owns gets ApplyConflictError', async function () {
    const rival: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: NS },
      spec: { replicas: 5 } as V1Deployment['spec'], // a partial intent: SSA merges it with the other owners'
    };
    await assert.rejects(
      serverSideApply(kc, 'local', rival, { fieldManager: 'rollout-bot' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplyConflictError, `expected ApplyConflictError, got ${String(err)}`);
        assert.deepEqual(err.managers, ['model-canary']);
        assert.deepEqual(
          err.conflicts.map((c) => c.field),
          ['.spec.replicas'],
        );
        assert.match(err.message, /model-canary/);
        return true;
      },
    );
    const stored = await read<V1Deployment>(kc, 'local', 'apps/v1', 'Deployment', NAME, NS);
    assert.equal(stored.spec?.replicas, 2, 'the refused apply must not change anything');

    // With force the rival takes the field over, and both managers are then recorded.
    const forced = await serverSideApply(kc, 'local', rival, { fieldManager: 'rollout-bot', force: true });
    assert.equal(forced.spec?.replicas, 5);
    const managers = (forced.metadata?.managedFields ?? []).map((m) => m.manager).sort();
    assert.deepEqual(managers, ['model-canary', 'rollout-bot']);
  });

  it('the remote API server is independent: it has no such namespace', async function () {
    await assert.rejects(read(kc, 'remote', 'v1', 'Namespace', NS), (err: unknown) => {
      assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
      assert.equal(err.code, 404);
      return true;
    });
    // ...while it does answer, with its own built-in namespaces.
    const system = await read(kc, 'remote', 'v1', 'Namespace', 'kube-system');
    assert.equal(system.metadata?.name, 'kube-system');
  });
});
