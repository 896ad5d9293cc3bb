import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { parse } from 'yaml';
import type { CommandDescription, CommandResult, CommandRunner, RunOptions } from '../../src/process/command';
import {
  cleanProgressLine,
  createKindCluster,
  DEFAULT_NODE_IMAGE,
  KindError,
  kindClusterStatus,
} from '../../src/kind';

interface Call {
  command: string;
  args: string[];
  config?: unknown;
}

/** A runner answering like a machine with Docker running and kind installed; `over` replaces answers by subcommand. */
function fakeRunner(
  calls: Call[],
  over: Record<string, Partial<CommandResult<unknown>> & { lines?: string[] }> = {},
): CommandRunner {
  return (async <T>(cmd: CommandDescription<T>, options?: RunOptions): Promise<CommandResult<T>> => {
    const key = cmd.command === 'docker' ? 'docker info' : cmd.args.slice(0, 2).join(' ');
    const call: Call = { command: cmd.command, args: cmd.args };
    const configAt = cmd.args.indexOf('--config');
    if (configAt >= 0) call.config = parse(readFileSync(cmd.args[configAt + 1]!, 'utf8'));
    calls.push(call);
    const stdout =
      key === 'docker info'
        ? '28.2.2\n'
        : key === 'version'
          ? 'kind v0.33.0 go1.26.8 linux/amd64\n'
          : key === 'get clusters'
            ? 'No kind clusters found.\n'
            : '';
    const answer = over[key] ?? over[cmd.args[0] ?? ''];
    for (const l of answer?.lines ?? []) options?.onLine?.(l);
    if (answer?.kind === 'failed')
      return {
        kind: 'failed',
        exitCode: 1,
        stdout: '',
        stderr: (answer as { stderr?: string }).stderr ?? '',
        message: (answer as { stderr?: string }).stderr ?? '',
      };
    const out = (answer as { stdout?: string } | undefined)?.stdout ?? stdout;
    return { kind: 'ok', value: cmd.parse(out, ''), stdout: out, stderr: '' };
  }) as CommandRunner;
}

describe('kind cluster flows (described commands, fake runner)', () => {
  let busy: Server | undefined;
  afterEach(() => busy?.close());

  it('create: checks, then creates from a config with the workspace at /models, the router port on 127.0.0.1 and the pinned image', async () => {
    const calls: Call[] = [];
    const lines: string[] = [];
    const created = await createKindCluster(
      fakeRunner(calls, {
        create: {
          lines: [
            'Creating cluster "model-canary" ...',
            ' \u001b[32m✓\u001b[0m Ensuring node image (kindest/node:v1.37.0) 🖼',
          ],
        },
      }),
      {
        kindBinary: '/opt/kind',
        workspace: '/home/me/ws',
        hostPort: 0,
        procRoot: '/nonexistent',
        onProgress: (l) => lines.push(l),
      },
    );
    assert.equal(created.context, 'kind-model-canary');
    assert.deepEqual(
      calls.map((c) => [c.command, ...c.args.slice(0, 2)].join(' ')),
      ['docker info --format', '/opt/kind version', '/opt/kind get clusters', '/opt/kind create cluster'],
    );
    const create = calls[3]!;
    assert.deepEqual(create.args.slice(create.args.indexOf('--image')), ['--image', DEFAULT_NODE_IMAGE]);
    assert.match(DEFAULT_NODE_IMAGE, /^kindest\/node:v1\.37\.0@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(create.config, {
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      nodes: [
        {
          role: 'control-plane',
          extraMounts: [{ hostPath: '/home/me/ws', containerPath: '/models', readOnly: true }],
        },
      ],
    });
    assert.ok(lines.includes('✓ Ensuring node image (kindest/node:v1.37.0) 🖼'), lines.join('\n'));
  });

  it('maps the router ports (HTTP, and gRPC on the next one) into the config when one is given', async () => {
    const calls: Call[] = [];
    // A port whose successor is free too.
    let free = 0;
    for (let tries = 0; tries < 20 && !free; tries++) {
      busy = createServer();
      await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
      const port = (busy.address() as AddressInfo).port;
      busy.close();
      const next = createServer();
      const ok = await new Promise<boolean>((r) => {
        next.once('error', () => r(false));
        next.listen(port + 1, '127.0.0.1', () => r(true));
      });
      next.close();
      if (ok) free = port;
    }
    await createKindCluster(fakeRunner(calls), {
      kindBinary: 'kind',
      hostPort: free,
      image: 'kindest/node:v1.36.1',
    });
    const create = calls.find((c) => c.args[0] === 'create')!;
    assert.deepEqual(
      (create.config as { nodes: { extraPortMappings: unknown }[] }).nodes[0]!.extraPortMappings,
      [
        { containerPort: 30090, hostPort: free, listenAddress: '127.0.0.1', protocol: 'TCP' },
        { containerPort: 30091, hostPort: free + 1, listenAddress: '127.0.0.1', protocol: 'TCP' },
      ],
    );
    assert.ok(create.args.includes('kindest/node:v1.36.1'), 'the image setting overrides the pinned one');
  });

  it('refuses to create when the cluster exists, without running kind create', async () => {
    const calls: Call[] = [];
    await assert.rejects(
      createKindCluster(fakeRunner(calls, { 'get clusters': { stdout: 'model-canary\n' } as never }), {
        kindBinary: 'kind',
        hostPort: 0,
      }),
      (err: unknown) => {
        assert.ok(err instanceof KindError);
        assert.equal(err.problem.code, 'cluster-exists');
        assert.match(err.message, /already exists — use it .* or delete it first/);
        return true;
      },
    );
    assert.ok(!calls.some((c) => c.args[0] === 'create'));
  });

  it('refuses to create when the router port is taken, naming the port and the setting', async () => {
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    await assert.rejects(
      createKindCluster(fakeRunner([]), { kindBinary: 'kind', hostPort: port }),
      (err: unknown) => {
        assert.ok(err instanceof KindError);
        assert.equal(err.problem.code, 'port-in-use');
        assert.match(
          err.message,
          new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use.*modelCanary\\.router\\.port`),
        );
        return true;
      },
    );
  });

  it('refuses to create when the gRPC port (the one after the router port) is taken, naming it', async function () {
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const before = createServer();
    const free = await new Promise<boolean>((r) => {
      before.once('error', () => r(false));
      before.listen(port - 1, '127.0.0.1', () => r(true));
    });
    before.close();
    if (!free) this.skip();
    await assert.rejects(
      createKindCluster(fakeRunner([]), { kindBinary: 'kind', hostPort: port - 1 }),
      (err: unknown) => {
        assert.ok(err instanceof KindError);
        assert.equal(err.problem.code, 'port-in-use');
        assert.match(err.message, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
        return true;
      },
    );
  });

  it('refuses with the fix when Docker is not running', async () => {
    const runner = fakeRunner([], {
      'docker info': {
        kind: 'failed',
        stderr:
          'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      } as never,
    });
    await assert.rejects(createKindCluster(runner, { kindBinary: 'kind', hostPort: 0 }), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.problem.code, 'docker-not-running');
      assert.match(err.message, /^Docker is not running — start Docker Desktop/);
      return true;
    });
  });

  it('status: exists or not, with the context', async () => {
    const status = await kindClusterStatus(
      fakeRunner([], { 'get clusters': { stdout: 'other\nmodel-canary\n' } as never }),
      { kindBinary: 'kind' },
    );
    assert.deepEqual(status, {
      name: 'model-canary',
      exists: true,
      context: 'kind-model-canary',
      clusters: ['other', 'model-canary'],
    });
  });

  it('cleans kind progress lines of terminal escapes', () => {
    assert.equal(
      cleanProgressLine(' \u001b[32m✓\u001b[0m Preparing nodes 📦 \u001b[K'),
      '✓ Preparing nodes 📦',
    );
  });
});
