/** kind commands as descriptions: what the tests assert on, and what the runner executes. */
import type { CommandDescription } from '../process/command';

export interface KindVersion {
  version: string;
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

/**
 * The node image kind v0.33.0 creates clusters with by default, pinned by digest so a cluster is
 * the same wherever it is created (kind's release notes ask for the digest). Read from kind
 * v0.33.0's `pkg/apis/config/defaults/image.go` (the Go module tools/install-kind.sh builds)
 * and the built binary. Overridden with `--image`.
 */
export const DEFAULT_NODE_IMAGE =
  'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5';

/** The router's NodePort inside the cluster; the cluster config maps it to 127.0.0.1 on the host. */
export const ROUTER_NODE_PORT = 30090;

/** The router's gRPC NodePort; the cluster config maps it to 127.0.0.1:<router host port + 1>. */
export const ROUTER_GRPC_NODE_PORT = 30091;

/** The host port kind maps the router's gRPC NodePort to: the one after the HTTP host port. */
export function grpcHostPort(hostPort: number): number {
  return hostPort + 1;
}

/** The oldest kind that understands every config field we generate. */
export const MINIMUM_KIND_VERSION = { major: 0, minor: 20, patch: 0 };

/** Parses `kind version` output such as `kind v0.33.0 go1.26.8 linux/amd64`. */
export function parseKindVersion(stdout: string): KindVersion {
  const match = /\bv?(\d+)\.(\d+)\.(\d+)(?:-[\w.]+)?\b/.exec(stdout);
  if (!stdout.trim().startsWith('kind') || !match)
    throw new Error(`cannot read a kind version from "${stdout.trim()}"`);
  const [, major, minor, patch] = match;
  return {
    version: `v${major}.${minor}.${patch}`,
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    raw: stdout.trim(),
  };
}

/** True when `v` is at least the minimum supported kind version. */
export function isSupportedKindVersion(v: KindVersion): boolean {
  const m = MINIMUM_KIND_VERSION;
  return v.major !== m.major
    ? v.major > m.major
    : v.minor !== m.minor
      ? v.minor > m.minor
      : v.patch >= m.patch;
}

/** kind's own commands, each described, none run here. */
export class KindCli {
  constructor(
    readonly binary = 'kind',
    /** Extra environment for every kind command (e.g. PATH to find the container engine). */
    readonly env?: Record<string, string>,
  ) {}

  private describe<T>(args: string[], parse: (stdout: string, stderr: string) => T): CommandDescription<T> {
    return { command: this.binary, args, parse, ...(this.env ? { env: this.env } : {}) };
  }

  version(): CommandDescription<KindVersion> {
    return this.describe(['version'], parseKindVersion);
  }

  /** Cluster names; kind prints "No kind clusters found." on stderr when there are none. */
  getClusters(): CommandDescription<string[]> {
    return this.describe(['get', 'clusters'], (stdout) =>
      stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('No kind clusters')),
    );
  }

  createCluster(
    name: string,
    configFile: string,
    opts: { image?: string; wait?: string } = {},
  ): CommandDescription<void> {
    const args = ['create', 'cluster', '--name', name, '--config', configFile, '--wait', opts.wait ?? '120s'];
    if (opts.image) args.push('--image', opts.image);
    return this.describe(args, () => undefined);
  }

  deleteCluster(name: string): CommandDescription<void> {
    return this.describe(['delete', 'cluster', '--name', name], () => undefined);
  }

  /** The kubeconfig of a cluster (its context is `kind-<name>`). */
  getKubeconfig(name: string): CommandDescription<string> {
    return this.describe(['get', 'kubeconfig', '--name', name], (stdout) => stdout);
  }

  loadImage(name: string, image: string): CommandDescription<void> {
    return this.describe(['load', 'docker-image', image, '--name', name], () => undefined);
  }
}

/** The kubeconfig context kind creates for a cluster. */
export function kindContextName(cluster: string): string {
  return `kind-${cluster}`;
}
