import assert from 'node:assert/strict';
import { loadImages, REMOTE_CLUSTER } from '../harness/kindNode';
import { kubectl, kubectlConfig, stackImages, waitForReadyPods } from '../harness/kindPods';
import { kindBinary } from '../harness/tools';
import { session as s } from './session';

interface PromoteJson {
  status: string;
  changes: { ref: string; action: string }[];
}

// Promote to Cluster…: from kind-model-canary onto a second kind cluster that plays the remote
// context, through the built CLI, with the defects the issue found on this path.
describe('promotion onto a second kind cluster', function () {
  const promote = () => [
    'promote',
    'propensity',
    '--context',
    s.remote,
    '--from',
    s.local,
    '--allow-kind',
    '--workspace',
    s.ws,
  ];

  before(async function () {
    this.timeout(600_000);
    await s.cli.run([
      'cluster',
      'create',
      '--name',
      REMOTE_CLUSTER,
      '--workspace',
      s.ws,
      '--port',
      String(s.remotePort),
      '--image',
      s.image,
      '--kind',
      kindBinary(),
    ]);
    loadImages(REMOTE_CLUSTER, stackImages());
  });

  it('shows the diff and applies nothing when the confirmation is declined', async function () {
    this.timeout(300_000);
    const declined = await s.cli.run(promote(), { input: 'n\n', expectFail: true });
    const out = declined.stdout + declined.stderr;
    assert.match(out, /^\+ Deployment model-canary\/propensity-v1 create\b/m, out);
    assert.match(out, /not confirmed: nothing applied/, out);
  });

  it('applies once confirmed; the Pods run; a second promotion has nothing to change', async function () {
    this.timeout(900_000);
    const applied = await s.cli.run(promote(), { input: 'y\n' });
    assert.match(
      applied.stdout,
      new RegExp(`promoted propensity to ${s.remote}/model-canary`),
      applied.stdout,
    );
    await waitForReadyPods(s.kubeconfig, s.remote, 'model-canary', 4, 480_000);
    const again = JSON.parse((await s.cli.run([...promote(), '--json'])).stdout) as PromoteJson;
    assert.equal(again.status, 'unchanged', JSON.stringify(again));
    assert.deepEqual(
      again.changes.filter((c) => c.action !== 'unchanged'),
      [],
    );
  });

  it('a source context named like an EKS ARN (with slashes) can be --from', async function () {
    this.timeout(300_000);
    const arn = 'arn:aws:eks:eu-west-1:123456789012:cluster/mc-local';
    kubectlConfig(s.kubeconfig, ['config', 'set-context', arn, `--cluster=${s.local}`, `--user=${s.local}`]);
    const res = await s.cli.run([
      'promote',
      'propensity',
      '--context',
      s.remote,
      '--from',
      arn,
      '--plan',
      'as-is',
      '--allow-kind',
      '--dry-run',
      '--workspace',
      s.ws,
      '--json',
    ]);
    const plan = JSON.parse(res.stdout) as PromoteJson & { weights: Record<string, number> };
    assert.ok(['dry-run', 'unchanged'].includes(plan.status), res.stdout);
  });

  it('says in the summary when the plan resets a split changed on the cluster', async function () {
    this.timeout(300_000);
    await s.cli.run(['split', 'propensity', 'v1=70', 'v2=30', ...s.remoteArgs()]);
    const res = await s.cli.run([...promote(), '--dry-run']);
    assert.match(
      res.stdout,
      new RegExp(`sets the split v1=95 v2=5 on ${s.remote}/model-canary, which runs v1=70 v2=30 now`),
      res.stdout,
    );
  });

  // The split changed above makes a change to confirm (with nothing to apply, nothing is asked).
  it("an alias of the protected context's server and namespace needs the typed confirmation", async function () {
    this.timeout(300_000);
    kubectlConfig(s.kubeconfig, [
      'config',
      'set-context',
      'ops-alias',
      `--cluster=${s.remote}`,
      `--user=${s.remote}`,
      '--namespace=model-canary',
    ]);
    const res = await s.cli.run(
      [
        'promote',
        'propensity',
        '--context',
        'ops-alias',
        '--from',
        s.local,
        '--protected',
        REMOTE_CLUSTER,
        '--allow-kind',
        '--yes',
        '--workspace',
        s.ws,
      ],
      { input: 'y\n', expectFail: true },
    );
    const out = res.stdout + res.stderr;
    assert.match(
      out,
      new RegExp(`ops-alias points at the same cluster and namespace as the protected context ${s.remote}`),
      out,
    );
  });

  it('a field-manager conflict shows the diff and the conflict together and applies nothing', async function () {
    this.timeout(300_000);
    const patch = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'propensity-v1', namespace: 'model-canary' },
      spec: { replicas: 2 },
    });
    kubectl(
      s.kubeconfig,
      s.remote,
      [
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager',
        'ops-team',
        '--validate=false',
        '-f',
        '-',
      ],
      patch,
    );
    const res = await s.cli.run(promote(), { input: 'y\n', expectFail: true });
    const out = res.stdout + res.stderr;
    assert.match(out, /propensity-v1 update \(conflict: fields owned by ops-team\)/, out);
    assert.notEqual(res.exitCode, 0);
  });
});
