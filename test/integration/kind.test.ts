import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/process/execaRunner';
import { KindClient, KindError, runDoctor } from '../../src/kind';
import { kindBinary, pinnedVersions } from '../harness/tools';

// These run the real kind binary (built from Go modules by tools/install-kind.sh) with the
// docker client but no Docker daemon to reach: each test makes that condition itself (DOCKER_HOST
// at a socket that does not exist, or a PATH without docker), whether or not dockerd runs here.
describe('kind wrapper (real kind binary, no Docker daemon)', () => {
  let binary: string;
  let noDockerPath: string;
  let noDaemon: Record<string, string>;

  before(async () => {
    binary = kindBinary();
    // A PATH holding only the basics, so "docker" cannot be found at all.
    noDockerPath = await mkdtemp(join(tmpdir(), 'mc-nodocker-'));
    await symlink('/bin/sh', join(noDockerPath, 'sh'));
    noDaemon = { DOCKER_HOST: `unix://${join(noDockerPath, 'docker.sock')}` };
  });

  after(() => rm(noDockerPath, { recursive: true, force: true }));

  it('finds kind and parses its version', async () => {
    const version = await new KindClient(runCommand, binary).version();
    assert.equal(version.version, pinnedVersions().KIND_VERSION);
    assert.match(version.raw, /^kind v\d+\.\d+\.\d+ go\d/);
  });

  it('says Docker is not running, with the fix, when cluster creation needs the daemon', async () => {
    const lines: string[] = [];
    await assert.rejects(
      new KindClient(runCommand, binary, noDaemon).createCluster(
        'mc-test',
        { hostPort: 18090 },
        { onLine: (l) => lines.push(l) },
      ),
      (err: unknown) => {
        assert.ok(err instanceof KindError, String(err));
        assert.equal(err.problem.code, 'docker-not-running');
        assert.match(err.message, /^Docker is not running — start Docker Desktop/);
        assert.match(err.message, /Run Doctor/);
        assert.doesNotMatch(
          err.message,
          /Command Output|\{"ID"/,
          'kind raw output must not leak into the message',
        );
        assert.match(err.problem.detail, /Cannot connect to the Docker daemon/);
        return true;
      },
    );
    assert.ok(
      lines.some((l) => l.includes('ERROR: failed to create cluster')),
      'progress lines are streamed',
    );
  });

  it('says Docker is not installed when no docker binary is on PATH', async () => {
    const kind = new KindClient(runCommand, binary, { PATH: noDockerPath });
    await assert.rejects(kind.listClusters(), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.problem.code, 'docker-not-installed');
      assert.match(err.message, /^Docker is not installed/);
      return true;
    });
  });

  it('reports a missing kind binary with where to get it', async () => {
    await assert.rejects(new KindClient(runCommand, '/nonexistent/kind').version(), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.problem.code, 'kind-not-found');
      assert.match(err.message, /modelCanary\.kind\.path/);
      return true;
    });
  });

  it('doctor names Docker as the blocker, finds kind, and skips what depends on the daemon', async () => {
    const report = await runDoctor(runCommand, {
      kindBinary: binary,
      clusterName: 'model-canary',
      hostPort: 0,
      env: noDaemon,
    });
    const byId = new Map(report.findings.map((f) => [f.id, f]));
    assert.equal(report.ok, false);
    assert.equal(byId.get('engine-binary')?.status, 'ok');
    assert.equal(byId.get('engine-daemon')?.status, 'error');
    assert.match(byId.get('engine-daemon')?.fix ?? '', /^Docker is not running/);
    assert.equal(byId.get('kind-binary')?.status, 'ok');
    assert.match(
      byId.get('kind-binary')?.detail ?? '',
      new RegExp(pinnedVersions().KIND_VERSION!.replace(/\./g, '\\.')),
    );
    assert.equal(byId.get('cluster')?.status, 'skipped');
  });
});
