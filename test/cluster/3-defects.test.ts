import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { docker, REMOTE_CLUSTER } from '../harness/kindNode';
import { kubectl } from '../harness/kindPods';
import { session as s } from './session';

// The defects found on the kind path (issue #14, item 8), each shown on the real clusters.
describe('defects on the kind path, on real clusters', function () {
  it('a second release on the kind cluster stops before creating anything: the NodePort is taken', async function () {
    this.timeout(300_000);
    const res = await s.cli.run(
      [
        'up',
        '--runtime',
        'kube',
        '--context',
        s.local,
        '--namespace',
        'mc-second',
        '--port',
        String(s.port),
        '--workspace',
        s.ws,
      ],
      { expectFail: true },
    );
    assert.notEqual(res.exitCode, 0);
    assert.match(
      res.stderr,
      /NodePort 30090, .* is taken by Service model-canary\/model-canary-router .*nothing was applied/,
      res.stderr,
    );
    assert.throws(
      () => kubectl(s.kubeconfig, s.local, ['get', 'namespace', 'mc-second']),
      /NotFound|not found/,
    );
  });

  it('model-server Pods run with OMP_NUM_THREADS=1', () => {
    const env = kubectl(s.kubeconfig, s.local, [
      'exec',
      '-n',
      'model-canary',
      'deploy/propensity-v1',
      '--',
      'printenv',
      'OMP_NUM_THREADS',
    ]);
    assert.equal(env.trim(), '1');
  });

  it('a broken file in KUBECONFIG is named, with the fix', async function () {
    this.timeout(120_000);
    const broken = join(s.dir, 'broken.yaml');
    await writeFile(broken, 'apiVersion: v1\nclusters: [\n  - name: : :\n');
    const res = await s.cli.run(['status', ...s.localArgs()], {
      expectFail: true,
      env: { KUBECONFIG: `${s.kubeconfig}:${broken}` },
    });
    assert.notEqual(res.exitCode, 0);
    assert.match(
      res.stderr,
      new RegExp(`cannot read the kubeconfig ${broken}: .*leave it out of KUBECONFIG`, 's'),
      res.stderr,
    );
  });

  it('the KServe export refuses to drop the third arm and the shadow unless --allow-lossy, then names them', async function () {
    this.timeout(120_000);
    const exportArgs = [
      'export',
      join(s.ws, 'experiments/propensity.yaml'),
      '--target',
      'kserve',
      '--model-uri-base',
      'gs://models-example/sample-models',
      '--out',
      join(s.dir, 'kserve'),
      '--workspace',
      s.ws,
    ];
    const refused = await s.cli.run(exportArgs, { expectFail: true });
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /kserve cannot carry .* — export with --allow-lossy/, refused.stderr);
    const lossy = await s.cli.run([...exportArgs, '--allow-lossy']);
    assert.match(lossy.stdout + lossy.stderr, /v3/, 'the dropped shadow arm is named');
  });

  it('down --purge removes the stack and its event-log volume', async function () {
    this.timeout(300_000);
    await s.cli.run(['down', '--purge', ...s.remoteArgs()]);
    const claims = kubectl(s.kubeconfig, s.remote, ['get', 'pvc', '-n', 'model-canary', '-o', 'name']);
    assert.equal(claims.trim(), '', 'no PersistentVolumeClaim is left');
  });

  it('an unreachable API server is named by its context', async function () {
    this.timeout(120_000);
    docker(['stop', `${REMOTE_CLUSTER}-control-plane`]);
    const res = await s.cli.run(['status', ...s.remoteArgs()], { expectFail: true });
    assert.equal(res.exitCode, 1, res.stdout);
    assert.match(res.stderr, new RegExp(`from the API server of context "${s.remote}"`), res.stderr);
  });
});
