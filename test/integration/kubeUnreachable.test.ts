import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../harness/tools';

// The built CLI against a context whose API server does not answer: it says so, naming the context
// and its server, and never reports "not running" for a cluster it could not read.
describe('a Kubernetes context whose API server does not answer (built CLI)', () => {
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-unreachable-'));
    kubeconfig = join(dir, 'config');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: x}}]',
        'contexts: [{name: staging, context: {cluster: c, user: u}}]',
        'current-context: staging',
      ].join('\n'),
    );
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('status names the context, the server and a command to check, and exits 1', async () => {
    const res = await execa(
      'node',
      [join(REPO_ROOT, 'dist/cli.js'), 'status', '--runtime', 'kube', '--context', 'staging'],
      {
        reject: false,
        env: { KUBECONFIG: kubeconfig },
      },
    );
    assert.equal(res.exitCode, 1, res.stdout);
    assert.doesNotMatch(res.stdout, /not running/);
    assert.match(
      res.stderr,
      /cannot read the stack in staging\/model-canary from the API server of context "staging" \(https:\/\/127\.0\.0\.1:1\): .*ECONNREFUSED.* — check `kubectl --context staging get deployments -n model-canary`/,
    );
  });
});
