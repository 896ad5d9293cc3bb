import assert from 'node:assert/strict';
import {
  KindCli,
  explainKindFailure,
  isSupportedKindVersion,
  kindClusterConfig,
  parseKindVersion,
} from '../../src/kind';

// stderr captured from kind v0.33.0 on a machine with the docker client but no daemon.
const NO_DAEMON = `ERROR: failed to create cluster: failed to get docker info: command "docker info --format '{{json .}}'" failed with error: exit status 1

Command Output: {"ID":"","Containers":0,"ServerVersion":""}
Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`;
const NO_DOCKER = `ERROR: failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster --format '{{.Label "io.x-k8s.kind.cluster"}}'" failed with error: exec: "docker": executable file not found in $PATH`;

describe('kind command descriptions', () => {
  const kind = new KindCli('/opt/kind');

  it('describes cluster creation from a config file, with a wait and an optional pinned image', () => {
    const cmd = kind.createCluster('model-canary', '/tmp/cfg.yaml', { image: 'kindest/node:v1.35.0' });
    assert.equal(cmd.command, '/opt/kind');
    assert.deepEqual(cmd.args, [
      'create',
      'cluster',
      '--name',
      'model-canary',
      '--config',
      '/tmp/cfg.yaml',
      '--wait',
      '120s',
      '--image',
      'kindest/node:v1.35.0',
    ]);
  });

  it('describes delete, kubeconfig and image loading as argument arrays', () => {
    assert.deepEqual(kind.deleteCluster('mc').args, ['delete', 'cluster', '--name', 'mc']);
    assert.deepEqual(kind.getKubeconfig('mc').args, ['get', 'kubeconfig', '--name', 'mc']);
    assert.deepEqual(kind.loadImage('mc', 'router:dev').args, [
      'load',
      'docker-image',
      'router:dev',
      '--name',
      'mc',
    ]);
  });

  it('parses cluster lists, including kind\'s "none" message', () => {
    assert.deepEqual(kind.getClusters().parse('model-canary\nother\n', ''), ['model-canary', 'other']);
    assert.deepEqual(kind.getClusters().parse('No kind clusters found.\n', ''), []);
  });

  it('parses kind versions and rejects what is not one', () => {
    const v = parseKindVersion('kind v0.33.0 go1.26.8 linux/amd64\n');
    assert.deepEqual([v.version, v.major, v.minor, v.patch], ['v0.33.0', 0, 33, 0]);
    assert.equal(isSupportedKindVersion(v), true);
    assert.equal(isSupportedKindVersion(parseKindVersion('kind v0.11.1 go1.16.4 linux/amd64')), false);
    assert.throws(() => parseKindVersion('docker 28.2.2'), /cannot read a kind version/);
  });

  it('generates a cluster config that mounts the models and maps the router HTTP and gRPC NodePorts to 127.0.0.1', () => {
    assert.deepEqual(kindClusterConfig({ modelsDir: '/ws/models', hostPort: 8090 }), {
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      nodes: [
        {
          role: 'control-plane',
          extraMounts: [{ hostPath: '/ws/models', containerPath: '/models', readOnly: true }],
          extraPortMappings: [
            { containerPort: 30090, hostPort: 8090, listenAddress: '127.0.0.1', protocol: 'TCP' },
            { containerPort: 30091, hostPort: 8091, listenAddress: '127.0.0.1', protocol: 'TCP' },
          ],
        },
      ],
    });
  });
});

describe("kind failures in the user's words", () => {
  it("recognises a stopped Docker daemon and hides kind's raw output", () => {
    const p = explainKindFailure(NO_DAEMON);
    assert.equal(p.code, 'docker-not-running');
    assert.doesNotMatch(p.message, /Command Output/);
    assert.equal(p.detail, NO_DAEMON);
  });

  it('recognises a missing docker binary and offers the Docker-free local environment', () => {
    const p = explainKindFailure(NO_DOCKER);
    assert.equal(p.code, 'docker-not-installed');
    assert.match(p.message, /local processes .*Start Environment/);
  });

  it('recognises an existing cluster and a port in use', () => {
    const exists = explainKindFailure(
      'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "model-canary"',
    );
    assert.equal(exists.code, 'cluster-exists');
    assert.match(exists.message, /"model-canary" already exists/);
    const port = explainKindFailure('Bind for 127.0.0.1:8090 failed: port is already allocated', {
      port: 8090,
    });
    assert.equal(port.code, 'port-in-use');
    assert.match(port.message, /Port 8090 .* modelCanary\.router\.port/);
  });

  it("falls back to kind's own ERROR line", () => {
    const p = explainKindFailure('Creating cluster...\nERROR: failed to create cluster: something new');
    assert.equal(p.code, 'unknown');
    assert.equal(p.message, 'kind failed: ERROR: failed to create cluster: something new');
  });
});
