import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCommands } from '../../src/cli/clusterCommands';
import { createKindCluster, deleteKindCluster, KindError, kindClusterStatus } from '../../src/kind';
import { runCommand } from '../../src/process/execaRunner';
import { kindBinary } from '../harness/tools';

// `cluster create|delete|status` on the real kind binary with the docker client but no Docker
// daemon to reach: each ends in the message with the fix. Each test makes that condition itself
// (DOCKER_HOST at a socket that does not exist, or a PATH without docker), whether or not dockerd
// runs here.
describe('cluster create/delete/status on the real kind binary (no Docker daemon)', () => {
  let binary: string;
  let noDockerPath: string;
  let noDaemon: Record<string, string>;

  before(async () => {
    binary = kindBinary();
    noDockerPath = await mkdtemp(join(tmpdir(), 'mc-nodocker-'));
    await symlink('/bin/sh', join(noDockerPath, 'sh'));
    noDaemon = { DOCKER_HOST: `unix://${join(noDockerPath, 'docker.sock')}` };
  });

  after(() => rm(noDockerPath, { recursive: true, force: true }));

  it('create stops at the checks and says Docker is not running, before kind tries anything', async () => {
    const lines: string[] = [];
    await assert.rejects(
      createKindCluster(runCommand, {
        kindBinary: binary,
        workspace: process.cwd(),
        hostPort: 0,
        env: noDaemon,
        onProgress: (l) => lines.push(l),
      }),
      (err: unknown) => {
        assert.ok(err instanceof KindError, String(err));
        assert.equal(err.problem.code, 'docker-not-running');
        assert.match(err.message, /^Docker is not running — start Docker Desktop/);
        return true;
      },
    );
    assert.deepEqual(lines, ['checking Docker, kind and the router port']);
  });

  it('create says Docker is not installed when there is no docker binary', async () => {
    await assert.rejects(
      createKindCluster(runCommand, { kindBinary: binary, hostPort: 0, env: { PATH: noDockerPath } }),
      (err: unknown) => {
        assert.ok(err instanceof KindError);
        assert.equal(err.problem.code, 'docker-not-installed');
        assert.match(err.message, /^Docker is not installed — kind runs Kubernetes nodes as containers/);
        return true;
      },
    );
  });

  it('status and delete end in the same clear Docker message from kind itself', async () => {
    await assert.rejects(
      kindClusterStatus(runCommand, { kindBinary: binary, env: noDaemon }),
      (err: unknown) => {
        assert.ok(err instanceof KindError, String(err));
        assert.equal(err.problem.code, 'docker-not-running');
        return true;
      },
    );
    await assert.rejects(
      deleteKindCluster(runCommand, { kindBinary: binary, env: { PATH: noDockerPath } }),
      (err: unknown) => {
        assert.ok(err instanceof KindError, String(err));
        assert.equal(err.problem.code, 'docker-not-installed');
        return true;
      },
    );
  });

  it("`model-canary cluster create` exits 1 and prints the fix, not kind's stack of errors", async () => {
    const errors: string[] = [];
    const saved = console.error;
    const savedHost = process.env.DOCKER_HOST;
    console.error = (m: string) => errors.push(m);
    process.env.DOCKER_HOST = noDaemon.DOCKER_HOST; // the command runs in this process
    try {
      const cmd = clusterCommands({ routerScript: 'dist/router.js', cacheDir: tmpdir() }).cluster!;
      const code = await cmd.run(
        { name: 'mc-cli-test', workspace: '.', port: '18093', kind: binary, json: true },
        ['create'],
      );
      assert.equal(code, 1);
    } catch (err) {
      assert.fail(`threw instead of exiting 1: ${String(err)}`);
    } finally {
      console.error = saved;
      if (savedHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = savedHost;
    }
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^Docker is not running — start Docker Desktop .* Run Doctor/);
  });
});
