/**
 * Port-forward failures explained (test/harness/portForwardCluster.ts: a real kube-apiserver and
 * the kubelet's real streaming code): a missing, unscheduled or not-Running Pod, nothing listening
 * on the Pod port, a Pod deleted under an open forward, an unreachable kubelet, and RBAC.
 */
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest } from '../../src/kube';
import { forwardedRequest, openPortForward } from '../../src/kube/portForward';
import type { PortForwardError } from '../../src/kube/portForward';
import type { KubeletStandIn } from '../harness/kubeletStandIn';
import {
  CONTEXT,
  DEAD_PORT,
  freePort,
  get,
  NS,
  POD_PORT,
  rejectsWith,
  startPortForwardCluster,
  type PortForwardCluster,
} from '../harness/portForwardCluster';

describe('port-forward to a Pod through kube-apiserver and the kubelet streaming code', function () {
  let cluster: PortForwardCluster | undefined;
  let kc: KubeConfig;
  let node: KubeletStandIn;
  let send: PortForwardCluster['send'];

  before(async function () {
    this.timeout(180_000);
    cluster = await startPortForwardCluster();
    ({ kc, node, send } = cluster);
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && cluster) {
      console.log(`--- kubelet-standin log ---\n${cluster.nodeLog()}`);
    }
  });

  it('names a missing Pod and how to look for it', async function () {
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'no-such-pod', POD_PORT),
      'not-found',
      /Pod mc-pf\/no-such-pod not found in context cluster .*kubectl --context cluster -n mc-pf get pods/,
    );
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'no-such-pod', POD_PORT, '/hello'),
      'not-found',
      /no-such-pod not found/,
    );
  });

  it('refuses a Pod without a node, and one that is not Running, saying so', async function () {
    const container = { name: 'main', image: 'registry.invalid/x:1' };
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'unscheduled' },
      spec: { containers: [container] },
    });
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'unscheduled', POD_PORT),
      'not-scheduled',
      /Pod mc-pf\/unscheduled is not scheduled to a node yet \(phase Pending\).*describe pod unscheduled/,
    );
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pending' },
      spec: { nodeName: node.nodeName, containers: [container] },
    });
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'pending', POD_PORT),
      'not-running',
      /Pod mc-pf\/pending is Pending, not Running/,
    );
  });

  it('reports the kubelet error when nothing listens on the Pod port', async function () {
    const errors: PortForwardError[] = [];
    const fwd = await openPortForward(kc, CONTEXT, NS, 'web', DEAD_PORT, { onError: (e) => errors.push(e) });
    try {
      await assert.rejects(get(fwd.port, '/hello'), /ECONNRESET|socket hang up/);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.reason, 'refused');
      assert.match(
        errors[0]?.message ?? '',
        /failed on the node: error forwarding port 8081 to pod web.*connection refused.*listening on port 8081.*kubectl --context cluster -n mc-pf port-forward pod\/web 8081/,
      );
      assert.equal(fwd.lastError, errors[0]);
      // The forward itself stays usable for the next connection.
    } finally {
      await fwd.close();
    }
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'web', DEAD_PORT, '/hello'),
      'refused',
      /connection refused/,
    );
  });

  it("explains a refused upgrade with the API server's reason (Pod deleted after the forward opened)", async function () {
    await node.createRunningPod(NS, 'short-lived', POD_PORT);
    const fwd = await openPortForward(kc, CONTEXT, NS, 'short-lived', POD_PORT);
    try {
      assert.equal((await get(fwd.port, '/hello?id=before')).body.toString(), 'hello before');
      await send('DELETE', `/api/v1/namespaces/${NS}/pods/short-lived?gracePeriodSeconds=0`);
      await assert.rejects(get(fwd.port, '/hello'));
      assert.equal(fwd.lastError?.reason, 'not-found');
      assert.match(fwd.lastError?.message ?? '', /pods "short-lived" not found/);
    } finally {
      await fwd.close();
    }
  });

  it("says when the API server cannot reach the Pod's kubelet", async function () {
    const deadKubelet = await freePort();
    await send('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone-node' } });
    const status = await kubeRequest(kc, CONTEXT, '/api/v1/nodes/gone-node/status', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({
        status: {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: deadKubelet } },
        },
      }),
    });
    assert.equal(status.status, 200, status.text);
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan' },
      spec: { nodeName: 'gone-node', containers: [{ name: 'main', image: 'registry.invalid/x:1' }] },
    });
    const running = await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${NS}/pods/orphan/status`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ status: { phase: 'Running' } }),
    });
    assert.equal(running.status, 200, running.text);
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'orphan', POD_PORT, '/hello'),
      'unreachable',
      /could not open a stream to the kubelet of node gone-node \(HTTP 500 to the port-forward upgrade\).*kubectl --context cluster get node gone-node$/,
    );
  });

  describe('RBAC', function () {
    /** A ServiceAccount with exactly `rules`, as a kubeconfig context of its own. */
    async function limitedUser(name: string, rules: object[]): Promise<KubeConfig> {
      await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name } });
      await send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
        metadata: { name },
        rules,
      });
      await send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
      });
      const review = (await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      })) as { status: { token: string } };
      const limited = new KubeConfig();
      limited.loadFromOptions({
        clusters: kc.getClusters(),
        users: [{ name, token: review.status.token }],
        contexts: [{ name: CONTEXT, cluster: kc.getClusters()[0]!.name, user: name }],
        currentContext: CONTEXT,
      });
      return limited;
    }

    it('works with get on pods and get + create on pods/portforward', async function () {
      const ok = await limitedUser('pf-ok', [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
      ]);
      const res = await forwardedRequest(ok, CONTEXT, NS, 'web', POD_PORT, '/hello?id=rbac');
      assert.equal(res.text, 'hello rbac');
    });

    it('names the missing verb when only create on pods/portforward is granted', async function () {
      const createOnly = await limitedUser('pf-create-only', [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/portforward'], verbs: ['create'] },
      ]);
      await rejectsWith(
        openPortForward(createOnly, CONTEXT, NS, 'web', POD_PORT),
        'forbidden',
        /RBAC denies port-forward to Pod mc-pf\/web .*missing get on pods\/portforward in namespace mc-pf/,
      );
    });

    it('says which permission is missing when the Pod cannot even be read', async function () {
      const none = await limitedUser('pf-none', []);
      await rejectsWith(
        openPortForward(none, CONTEXT, NS, 'web', POD_PORT),
        'forbidden',
        /cannot get resource "pods".*needs get on pods in namespace mc-pf/,
      );
    });
  });
});
