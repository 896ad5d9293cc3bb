import assert from 'node:assert/strict';
import { unmatchedWalkthrough } from '../harness/readmeWalkthrough';
import { clusterContainers, LOCAL_CLUSTER, REMOTE_CLUSTER } from '../harness/kindNode';
import { kindBinary } from '../harness/tools';
import { session as s } from './session';

describe('Delete kind Cluster, and the README', function () {
  it('Delete kind Cluster leaves no container behind (a stopped node included)', async function () {
    this.timeout(300_000);
    for (const name of [LOCAL_CLUSTER, REMOTE_CLUSTER]) {
      await s.cli.run(['cluster', 'delete', '--name', name, '--kind', kindBinary()]);
      assert.deepEqual(clusterContainers(name), [], `containers of ${name}`);
    }
  });

  it("the README's kind walkthrough is what this run did", () => {
    assert.deepEqual(unmatchedWalkthrough(s.cli.ran), [], 'README lines the cluster tier did not run');
  });
});
