import assert from 'node:assert/strict';
import { RuntimeError, type EnvironmentStatus, type Runtime } from '../../src/runtime/runtime';
import {
  endpointNeedsCredentials,
  KubeEnvironmentRuntime,
  kubeRuntimeOptions,
  portForwardCommand,
  unreachableMessage,
  type KubeTarget,
  type ProbeResult,
} from '../../src/vscode/kubeEnvironment';
import { IDLE_POLL_DELAY_MS, MAX_POLL_DELAY_MS, nextPollDelayMs } from '../../src/vscode/pollDelay';

const settings = {
  routerPort: 18090,
  modelServerImage: '',
  kubeNamespace: 'team-a',
  kubeModelUriBase: 'https://models.example.com/ws',
};

const remote: KubeTarget = {
  context: 'staging-cluster',
  server: 'https://10.1.2.3:6443',
  platform: 'remote',
  namespace: 'team-a',
  modelUriBase: 'https://models.example.com/ws',
};

const stopped: EnvironmentStatus = { runtime: 'kubernetes', up: false, components: [], experiments: [] };

/** A runtime whose every call fails the way a dead socket does, or answers. */
function fakeRuntime(fail?: Error): Runtime & { calls: string[] } {
  const calls: string[] = [];
  const run = async <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    if (fail) throw fail;
    return value;
  };
  return {
    calls,
    up: () => run('up', { ...stopped, up: true }),
    deploy: () => run('deploy', stopped),
    setWeights: () => run('setWeights', {}),
    rollout: () => run('rollout', {} as never),
    router: () => run('router', {} as never),
    endpoint: () => run('endpoint', 'http://127.0.0.1:18090'),
    report: () => run('report', {} as never),
    logFile: () => run('logFile', '/tmp/router.log'),
    status: () => run('status', stopped),
    down: () => run('down', undefined),
  };
}

const refused: ProbeResult = { ok: false, cause: 'connect ECONNREFUSED 10.1.2.3:6443' };

describe('a kubeconfig context as the VS Code environment', function () {
  describe('kubeRuntimeOptions', function () {
    it('kind: the router port setting is the host port, models come from the node mount', function () {
      const o = kubeRuntimeOptions({
        context: 'kind-model-canary',
        platform: 'kind',
        workspace: '/ws',
        routerScript: '/ext/dist/router.js',
        settings,
      });
      assert.equal(o.hostPort, 18090);
      assert.equal(o.namespace, 'team-a');
      assert.equal(o.modelUriBase, undefined);
      assert.equal(o.images, undefined, 'no image setting: the pinned default');
    });

    it('remote: the model URI base and the model-server image come from the settings', function () {
      const o = kubeRuntimeOptions({
        context: 'staging-cluster',
        platform: 'remote',
        workspace: '/ws',
        routerScript: '/ext/dist/router.js',
        settings: { ...settings, modelServerImage: 'registry.example.com/mlserver:1.7.1-sklearn' },
      });
      assert.equal(o.hostPort, undefined);
      assert.equal(o.modelUriBase, 'https://models.example.com/ws');
      assert.deepEqual(o.images, { mlserver: 'registry.example.com/mlserver:1.7.1-sklearn' });
    });

    it('an empty namespace setting falls back to model-canary', function () {
      const o = kubeRuntimeOptions({
        context: 'c',
        platform: 'remote',
        workspace: '/ws',
        routerScript: '/r.js',
        settings: { ...settings, kubeNamespace: '', kubeModelUriBase: '' },
      });
      assert.equal(o.namespace, 'model-canary');
      assert.equal(o.modelUriBase, undefined);
    });
  });

  describe('unreachableMessage', function () {
    it('names the context, the server and a fix when the server does not answer', function () {
      const m = unreachableMessage(remote, refused);
      assert.match(
        m,
        /cannot reach the Kubernetes API server of context "staging-cluster" \(https:\/\/10\.1\.2\.3:6443\)/,
      );
      assert.match(m, /ECONNREFUSED/);
      assert.match(m, /kubectl --context staging-cluster get namespaces/);
      assert.match(m, /Select Environment/);
    });

    it('tells kind users to check the kind cluster', function () {
      const m = unreachableMessage({ ...remote, context: 'kind-model-canary', platform: 'kind' }, refused);
      assert.match(m, /kind cluster running\? Run Model Canary: Run Doctor/);
    });

    it('says the credentials were refused on 401', function () {
      const m = unreachableMessage(remote, { ok: false, status: 401, cause: 'Unauthorized' });
      assert.match(m, /refused the credentials of your kubeconfig \(HTTP 401: Unauthorized\)/);
    });
  });

  describe('KubeEnvironmentRuntime', function () {
    it('status of an unreachable API server is an error with the fix, not "stopped"', async function () {
      const inner = fakeRuntime();
      const rt = new KubeEnvironmentRuntime(inner, remote, async () => refused);
      await assert.rejects(rt.status(), (err: Error) => {
        assert.ok(err instanceof RuntimeError);
        assert.match(err.message, /cannot reach .*"staging-cluster"/);
        return true;
      });
      assert.deepEqual(inner.calls, [], 'nothing else was asked of a server that does not answer');
    });

    it('a failure turns into the unreachable message when the probe fails too', async function () {
      let up = true;
      const inner = fakeRuntime(new Error('socket hang up'));
      const rt = new KubeEnvironmentRuntime(inner, remote, async () => (up ? { ok: true } : refused));
      await assert.rejects(rt.setWeights('propensity', { v1: 1 }), /socket hang up/);
      up = false;
      await assert.rejects(rt.setWeights('propensity', { v1: 1 }), /cannot reach .*ECONNREFUSED/);
    });

    it('a probe that throws (a timeout) reads as unreachable', async function () {
      const rt = new KubeEnvironmentRuntime(fakeRuntime(), remote, async () => {
        throw new Error('GET /version timed out after 5000 ms');
      });
      await assert.rejects(rt.up(), /cannot reach .*timed out after 5000 ms/);
    });

    it('deploy on a remote context without a model URI base says which setting to set', async function () {
      const inner = fakeRuntime();
      const rt = new KubeEnvironmentRuntime(inner, { ...remote, modelUriBase: undefined }, async () => ({
        ok: true,
      }));
      await assert.rejects(
        rt.deploy('/ws/experiments/propensity.yaml'),
        /set modelCanary\.kubernetes\.modelUriBase/,
      );
      assert.deepEqual(inner.calls, []);
      const kind = new KubeEnvironmentRuntime(
        inner,
        { ...remote, platform: 'kind', modelUriBase: undefined },
        async () => ({
          ok: true,
        }),
      );
      await kind.deploy('/ws/experiments/propensity.yaml');
      assert.deepEqual(inner.calls, ['deploy'], 'kind mounts the workspace: no URL needed');
    });

    it('a cancel stays a cancel', async function () {
      const abort = new DOMException('canceled', 'AbortError');
      const rt = new KubeEnvironmentRuntime(fakeRuntime(abort), remote, async () => refused);
      await assert.rejects(rt.setWeights('e', {}), (err: Error) => err.name === 'AbortError');
    });

    it('passes rollout actions to the Kubernetes runtime', async function () {
      const inner = Object.assign(fakeRuntime(), {
        rollout: async () => ({ state: 'Progressing' }) as never,
      });
      const withRollout = new KubeEnvironmentRuntime(inner, remote, async () => ({ ok: true }));
      assert.deepEqual(await withRollout.rollout('propensity', 'start'), { state: 'Progressing' });
    });
  });

  describe('connections for plain HTTP clients', function () {
    it('are passed through where the Kubernetes runtime opens them, and explained when the server is gone', async function () {
      assert.equal(
        new KubeEnvironmentRuntime(fakeRuntime(), remote, async () => ({ ok: true })).connect,
        undefined,
      );
      let reachable = true;
      const inner = Object.assign(fakeRuntime(), {
        connect: async () => {
          if (!reachable) throw new Error('read ECONNRESET');
          return { url: 'http://127.0.0.1:40001', close: async () => undefined };
        },
      });
      const rt = new KubeEnvironmentRuntime(inner, remote, async () => (reachable ? { ok: true } : refused));
      assert.equal((await rt.connect!()).url, 'http://127.0.0.1:40001');
      reachable = false;
      await assert.rejects(rt.connect!(), /cannot reach .*"staging-cluster"/);
    });
  });

  describe('simulate on a context', function () {
    it('the service-proxy endpoint needs credentials; a kind host port or a port-forward does not', function () {
      const proxy = 'https://10.1.2.3:6443/api/v1/namespaces/team-a/services/model-canary-router:http/proxy';
      assert.equal(endpointNeedsCredentials(proxy, 'https://10.1.2.3:6443/'), true);
      assert.equal(endpointNeedsCredentials('http://127.0.0.1:8090', 'https://10.1.2.3:6443'), false);
      assert.equal(endpointNeedsCredentials('https://10.1.2.3:64430/x', 'https://10.1.2.3:6443'), false);
      assert.equal(endpointNeedsCredentials(proxy, undefined), false);
    });

    it('says the port-forward command for the context and namespace', function () {
      assert.equal(
        portForwardCommand(remote, 8090),
        'kubectl --context staging-cluster -n team-a port-forward svc/model-canary-router 8090:http',
      );
    });
  });
});

describe('live-state polling', function () {
  const base = { up: true, failures: 0, intervalSeconds: 2, lastReadMs: 50 };

  it('polls at the refresh interval while the environment runs and reads are quick', function () {
    assert.equal(nextPollDelayMs(base), 2_000);
  });

  it('looks only now and then while nothing runs', function () {
    assert.equal(nextPollDelayMs({ ...base, up: false }), IDLE_POLL_DELAY_MS);
  });

  it('backs off exponentially on failed reads, up to a bound', function () {
    const delays = [1, 2, 3, 4, 5, 6, 20].map((failures) =>
      nextPollDelayMs({ ...base, up: false, failures }),
    );
    assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 80_000, MAX_POLL_DELAY_MS, MAX_POLL_DELAY_MS]);
  });

  it('spaces reads of a slow API server so that reading takes at most a third of the time', function () {
    assert.equal(nextPollDelayMs({ ...base, lastReadMs: 4_000 }), 12_000);
    assert.equal(nextPollDelayMs({ ...base, lastReadMs: 100_000 }), MAX_POLL_DELAY_MS);
  });
});
