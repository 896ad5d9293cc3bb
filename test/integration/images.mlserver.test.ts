import assert from 'node:assert/strict';
import { KIND_MODELS_ROOT, MLSERVER_HTTP_PORT } from '../../src/manifests';
import {
  docker,
  dockerImageSuite,
  podSpecOf,
  runAsPod,
  waitReady,
  type RunningContainer,
} from '../harness/containers';
import { objectOf, sampleKindStack } from '../harness/sampleStack';
import { SAMPLE_MODELS } from '../harness/tools';

// The MLServer image that tools/images/build.sh builds under the manifests' name
// (seldonio/mlserver:<version>-sklearn), run by Docker the way a kind model-server Pod runs it:
// the image's own command, the Pod's env (one process, one OpenMP thread, the models folder, the
// HTTP port), user 1000 with fsGroup 1000, no capabilities, and the model folder mounted read-only
// at /mnt/models from where the kind node sees the workspace (/models/<folder> = sample-models/<folder>).
// Published on 127.0.0.1 only.
describe('the MLServer image serves a sample model with V2 inference (docker run)', function () {
  const names = dockerImageSuite('mlserver');
  let server: RunningContainer | undefined;

  after(async () => {
    await server?.remove();
  });

  it('runs the propensity-v1 Pod’s container, becomes ready and predicts three rows', async () => {
    const objects = await sampleKindStack({ image: names.router });
    const pod = podSpecOf(objectOf(objects, 'Deployment', 'propensity-v1'));
    const container = pod.containers[0]!;
    assert.equal(container.image, names.mlserver);
    assert.equal(container.command, undefined, 'the manifests run the image’s own command');
    const hostPath = (pod.volumes.find((v) => v.name === 'model')?.hostPath as { path: string }).path;
    assert.equal(hostPath, `${KIND_MODELS_ROOT}/propensity-v1`);

    server = await runAsPod(pod, container, {
      port: MLSERVER_HTTP_PORT,
      volumes: { model: SAMPLE_MODELS + hostPath.slice(KIND_MODELS_ROOT.length) },
    });
    await waitReady(server, '/v2/health/ready', 180_000);
    await waitReady(server, '/v2/models/propensity-v1/ready', 60_000);

    // Three rows of data/traffic.csv, one V2 input per column (MLServer's pandas codec).
    const column = (name: string, datatype: string, data: (number | string)[]) => ({
      name,
      shape: [3],
      datatype,
      data,
    });
    const res = await fetch(`${server.url}/v2/models/propensity-v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { content_type: 'pd' },
        inputs: [
          column('age', 'INT64', [27, 60, 52]),
          column('tenure_months', 'INT64', [24, 11, 14]),
          column('sessions_30d', 'INT64', [9, 5, 26]),
          column('basket_value', 'FP64', [92.41, 67.61, 15.76]),
          column('channel', 'BYTES', ['app', 'web', 'web']),
          column('region', 'BYTES', ['east', 'north', 'east']),
        ],
        outputs: [{ name: 'predict_proba' }],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as {
      model_name: string;
      outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    assert.equal(body.model_name, 'propensity-v1');
    const proba = body.outputs.find((o) => o.name === 'predict_proba');
    assert.ok(proba, JSON.stringify(body));
    assert.deepEqual(proba.shape, [3, 2]);
    assert.equal(proba.datatype, 'FP64');
    for (let row = 0; row < 3; row++)
      assert.ok(
        Math.abs(proba.data[2 * row]! + proba.data[2 * row + 1]! - 1) < 1e-9,
        'probabilities sum to 1',
      );

    // The official image's user and places: uid 1000 at home in its working directory /opt/mlserver.
    const [id, home, cwd] = (await docker(['exec', server.id, 'sh', '-c', 'id -u; echo "$HOME"; pwd'])).split(
      '\n',
    );
    assert.deepEqual([id, home, cwd], ['1000', '/opt/mlserver', '/opt/mlserver']);
  });
});
