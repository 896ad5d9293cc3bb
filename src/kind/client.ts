/** kind through the one runner: descriptions from commands.ts, failures explained by errors.ts. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CommandDescription, CommandRunner, RunOptions } from '../process/command';
import { CanceledError } from '../process/command';
import {
  DEFAULT_NODE_IMAGE,
  grpcHostPort,
  KindCli,
  kindContextName,
  ROUTER_GRPC_NODE_PORT,
  ROUTER_NODE_PORT,
  type KindVersion,
} from './commands';
import { explainKindFailure, kindNotFound, type KindProblem } from './errors';

/** A kind failure a user can act on; `problem.detail` keeps kind's own output for the logs. */
export class KindError extends Error {
  constructor(readonly problem: KindProblem) {
    super(problem.message);
    this.name = 'KindError';
  }
}

export interface ClusterConfigOptions {
  /** Host folder with the workspace's models, mounted into the node at /models. */
  modelsDir?: string;
  /** Host port (on 127.0.0.1) mapped to the router's NodePort. */
  hostPort?: number;
  nodePort?: number;
}

/**
 * kind's cluster config: models mounted into the node, the router's NodePorts on 127.0.0.1 —
 * HTTP on `hostPort`, gRPC on the port after it.
 */
export function kindClusterConfig(opts: ClusterConfigOptions): Record<string, unknown> {
  const node: Record<string, unknown> = { role: 'control-plane' };
  if (opts.modelsDir)
    node.extraMounts = [{ hostPath: opts.modelsDir, containerPath: '/models', readOnly: true }];
  if (opts.hostPort) {
    node.extraPortMappings = [
      {
        containerPort: opts.nodePort ?? ROUTER_NODE_PORT,
        hostPort: opts.hostPort,
        listenAddress: '127.0.0.1',
        protocol: 'TCP',
      },
      {
        containerPort: ROUTER_GRPC_NODE_PORT,
        hostPort: grpcHostPort(opts.hostPort),
        listenAddress: '127.0.0.1',
        protocol: 'TCP',
      },
    ];
  }
  return { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [node] };
}

export class KindClient {
  readonly cli: KindCli;

  constructor(
    private readonly run: CommandRunner,
    readonly binary: string,
    env?: Record<string, string>,
  ) {
    this.cli = new KindCli(binary, env);
  }

  /** The installed kind's version; throws KindError when kind is missing or broken. */
  version(options?: RunOptions): Promise<KindVersion> {
    return this.exec(this.cli.version(), options);
  }

  listClusters(options?: RunOptions): Promise<string[]> {
    return this.exec(this.cli.getClusters(), options);
  }

  /** Creates a cluster from a generated config with the pinned node image (unless `image`); returns its kubeconfig context name. */
  async createCluster(
    name: string,
    config: ClusterConfigOptions,
    options: RunOptions & { image?: string; wait?: string } = {},
  ): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'model-canary-kind-'));
    try {
      const file = join(dir, 'kind-config.yaml');
      await writeFile(file, stringify(kindClusterConfig(config)));
      const image = options.image ?? DEFAULT_NODE_IMAGE;
      await this.exec(this.cli.createCluster(name, file, { image, wait: options.wait }), options, {
        cluster: name,
        port: config.hostPort,
      });
      return kindContextName(name);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  deleteCluster(name: string, options?: RunOptions): Promise<void> {
    return this.exec(this.cli.deleteCluster(name), options, { cluster: name });
  }

  /** The kubeconfig kind keeps for a cluster (context `kind-<name>`). */
  kubeconfig(name: string, options?: RunOptions): Promise<string> {
    return this.exec(this.cli.getKubeconfig(name), options, { cluster: name });
  }

  /** Makes a locally built image available to the cluster's node (no registry needed). */
  loadImage(name: string, image: string, options?: RunOptions): Promise<void> {
    return this.exec(this.cli.loadImage(name, image), options, { cluster: name });
  }

  private async exec<T>(
    cmd: CommandDescription<T>,
    options?: RunOptions,
    context?: { cluster?: string; port?: number },
  ): Promise<T> {
    const result = await this.run(cmd, options);
    switch (result.kind) {
      case 'ok':
        return result.value;
      case 'canceled':
        throw new CanceledError();
      case 'not-found':
        throw new KindError(kindNotFound(this.binary));
      case 'failed':
        throw new KindError(explainKindFailure(result.stderr || result.message, context));
    }
  }
}
