/**
 * The cluster tier's real parts: the offline kind node image (tools/kind-node/build.sh), Docker,
 * and clean-up of clusters a killed run left behind. Every request from the host goes through
 * ports published on 127.0.0.1 (the API server's, the router's extraPortMapping), never a
 * container's bridge address.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindBinary, toolCache } from './tools';

/** The clusters the tier creates: the product's default, and the one playing a remote context. */
export const LOCAL_CLUSTER = 'model-canary';
export const REMOTE_CLUSTER = 'mc-remote';

/** Docker answers on the machine's own socket (provisioning starts dockerd). */
export function dockerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return env;
}

export function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, {
    env: dockerEnv(),
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
}

/** The node image tools/kind-node/build.sh built last; a clear error when it is missing. */
export function offlineNodeImage(): string {
  const file = join(toolCache(), 'kind-node', 'image');
  const fix = 'build it: bash tools/kind-node/build.sh (tools/provision.sh runs it)';
  if (!existsSync(file)) throw new Error(`no offline kind node image is recorded at ${file} — ${fix}`);
  const image = readFileSync(file, 'utf8').trim();
  try {
    docker(['image', 'inspect', '--format', '{{.Id}}', image]);
  } catch {
    throw new Error(`the kind node image ${image} is not in Docker — ${fix}`);
  }
  return image;
}

export function kind(args: string[]): string {
  return execFileSync(kindBinary(), args, {
    env: dockerEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Deletes the tier's clusters that a killed run left behind (CI ends dockerd between runs). */
export function removeLeftoverClusters(names = [LOCAL_CLUSTER, REMOTE_CLUSTER]): string[] {
  const existing = kind(['get', 'clusters'])
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const removed = existing.filter((c) => names.includes(c));
  for (const name of removed) kind(['delete', 'cluster', '--name', name]);
  return removed;
}

/** Containers kind made for a cluster (label io.x-k8s.kind.cluster), running or not. */
export function clusterContainers(name: string): string[] {
  return docker(['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${name}`, '--format', '{{.Names}}'])
    .split('\n')
    .filter(Boolean);
}

/** `kind load docker-image` of images present in the local Docker into a cluster's node. */
export function loadImages(cluster: string, images: string[]): void {
  for (const image of images) kind(['load', 'docker-image', '--name', cluster, image]);
}
