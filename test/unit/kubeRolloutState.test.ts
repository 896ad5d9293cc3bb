// When a workload counts as rolled out, as `kubectl rollout status` decides it: the router's
// StatefulSet (revisions and ready replicas) beside a model server's Deployment.
import assert from 'node:assert/strict';
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { rolloutState } from '../../src/kube/rollout';

const sts = (
  spec: { replicas: number; generation?: number },
  status: V1StatefulSet['status'],
): V1StatefulSet => ({
  kind: 'StatefulSet',
  metadata: { name: 'model-canary-router', generation: spec.generation ?? 2 },
  spec: { replicas: spec.replicas, selector: {}, serviceName: 'peers', template: {} },
  status,
});
const REF = 'StatefulSet mc/model-canary-router';

describe('rollout state of the router StatefulSet', () => {
  it('waits for the controller to see the new spec', () => {
    const s = rolloutState(sts({ replicas: 2 }, { replicas: 2, observedGeneration: 1 }), REF);
    assert.deepEqual(
      [s.done, s.message],
      [false, 'waiting for the statefulset controller to see the new spec'],
    );
  });

  it('waits while replicas are still on the old revision, then for them to be available', () => {
    const updating = rolloutState(
      sts(
        { replicas: 2 },
        {
          replicas: 2,
          observedGeneration: 2,
          updatedReplicas: 1,
          currentRevision: 'r-1',
          updateRevision: 'r-2',
        },
      ),
      REF,
    );
    assert.deepEqual([updating.done, updating.message], [false, '1 of 2 replicas updated']);
    const replacing = rolloutState(
      sts(
        { replicas: 2 },
        {
          replicas: 3,
          observedGeneration: 2,
          updatedReplicas: 2,
          currentRevision: 'r-1',
          updateRevision: 'r-2',
        },
      ),
      REF,
    );
    assert.deepEqual([replacing.done, replacing.message], [false, '1 old replicas still being replaced']);
    const starting = rolloutState(
      sts(
        { replicas: 2 },
        {
          replicas: 2,
          observedGeneration: 2,
          updatedReplicas: 2,
          availableReplicas: 1,
          currentRevision: 'r-2',
          updateRevision: 'r-2',
        },
      ),
      REF,
    );
    assert.deepEqual([starting.done, starting.message], [false, '1 of 2 replicas available']);
  });

  it('is done when every replica runs the update revision and is available', () => {
    const s = rolloutState(
      sts(
        { replicas: 2 },
        {
          replicas: 2,
          observedGeneration: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
          currentRevision: 'r-2',
          updateRevision: 'r-2',
        },
      ),
      REF,
    );
    assert.deepEqual([s.done, s.failed, s.message], [true, false, '2 of 2 available']);
  });

  it('a Deployment is still judged by its own status', () => {
    const dep: V1Deployment = {
      kind: 'Deployment',
      metadata: { name: 'propensity-v1', generation: 1 },
      spec: { replicas: 1, selector: {}, template: {} },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    };
    assert.deepEqual(rolloutState(dep, 'Deployment mc/propensity-v1').message, '1 of 1 available');
    assert.equal(rolloutState(undefined, REF).message, 'not found');
  });
});
