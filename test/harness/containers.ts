/**
 * Docker for the image tests: whether a daemon answers, the images that tools/images/build.sh
 * made (provisioning builds them, tests never do), and `docker run` of a container the way a Pod
 * of the manifests runs it — its command and args, env, user, groups, security context and
 * volume mounts — with ports published on 127.0.0.1 only (the network rule: the host never
 * addresses a container's bridge IP).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KubeObject } from '../../src/manifests';
import { stackImageNames, type StackImageNames } from '../../tools/images/names';

const exec = promisify(execFile);

/** Runs the docker client; rejects with its stderr. */
export async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** True when the docker client is installed and a daemon answers it. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], 20_000);
    return true;
  } catch {
    return false;
  }
}

/** Fails, naming the command that builds it, when `image` is not in the daemon's image store. */
export async function requireImage(image: string): Promise<void> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', image]);
  } catch {
    throw new Error(
      `the image ${image} is missing — provisioning builds it: run \`bash tools/images/build.sh\` (or \`bash tools/provision.sh\`)`,
    );
  }
}

/**
 * The image tests' preamble: skips the suite or test of `ctx` (saying why) when no Docker daemon
 * answers, else fails on the first of `images` that is missing.
 */
export async function requireDockerImages(ctx: Mocha.Context, ...images: string[]): Promise<void> {
  if (!(await dockerAnswers())) {
    console.log('    skipped: no Docker daemon answers (bash tools/docker.sh starts one)');
    ctx.skip();
  }
  for (const image of images) await requireImage(image);
}

/**
 * An image suite's preamble, called in its `describe`: the names of the images build.sh made, and
 * a `before` hook that skips the suite without Docker and requires the images of `which`.
 */
export function dockerImageSuite(...which: ('mlserver' | 'node' | 'router')[]): StackImageNames {
  const names = stackImageNames();
  before(async function () {
    await requireDockerImages(this, ...which.map((w) => names[w]));
  });
  return names;
}

interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}

export interface PodSpec {
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  initContainers?: ContainerSpec[];
  containers: ContainerSpec[];
  volumes: ({ name: string } & Record<string, unknown>)[];
}

/** The Pod template's spec of a Deployment or StatefulSet (the router). */
export function podSpecOf(deployment: KubeObject | undefined): PodSpec {
  if (!deployment || (deployment.kind !== 'Deployment' && deployment.kind !== 'StatefulSet'))
    throw new Error('not a Deployment or StatefulSet');
  return (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

export interface RunAsPod {
  /** Host folder for each volume the container mounts, by volume name (every mount needs one). */
  volumes: Record<string, string>;
  /** The container port to publish on 127.0.0.1 (a free host port); none for a run-to-completion container. */
  port?: number;
  /** false: run in the foreground to completion (an init container) and remove it after. Default true. */
  detach?: boolean;
  /** Replaces the container's args after its command (e.g. a config file instead of the API's ConfigMap). */
  args?: string[];
  /** Replaces the container's command (a router run outside a Pod needs other arguments). */
  command?: string[];
  /** More `-v host:container[:ro]` mounts. */
  extraMounts?: string[];
}

/** `docker run -d` arguments that run `container` as its Pod would. */
export function dockerRunArgs(pod: PodSpec, container: ContainerSpec, opts: RunAsPod): string[] {
  const args = ['run', opts.detach === false ? '--rm' : '--detach'];
  if (opts.port !== undefined) args.push('--publish', `127.0.0.1::${opts.port}`);
  const pc = pod.securityContext ?? {};
  if (pc.runAsUser !== undefined)
    args.push('--user', pc.runAsGroup === undefined ? `${pc.runAsUser}` : `${pc.runAsUser}:${pc.runAsGroup}`);
  if (pc.fsGroup !== undefined) args.push('--group-add', String(pc.fsGroup));
  const sc = container.securityContext ?? {};
  for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  if (sc.readOnlyRootFilesystem) args.push('--read-only');
  for (const { name, value } of container.env ?? []) args.push('--env', `${name}=${value}`);
  for (const m of container.volumeMounts ?? []) {
    const host = opts.volumes[m.name];
    if (!host) throw new Error(`no host folder given for the volume "${m.name}" (${m.mountPath})`);
    args.push('--volume', `${host}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
  }
  for (const v of opts.extraMounts ?? []) args.push('--volume', v);
  const command = opts.command ?? container.command;
  const rest = opts.args ?? container.args ?? [];
  if (command?.length) args.push('--entrypoint', command[0]!, container.image, ...command.slice(1), ...rest);
  else args.push(container.image, ...rest);
  return args;
}

export interface RunningContainer {
  id: string;
  /** http://127.0.0.1:<host port> of the published port. */
  url: string;
  logs(): Promise<string>;
  /** Removes the container (and so stops it). */
  remove(): Promise<void>;
}

/** Starts a container from `dockerRunArgs(...)` and finds its published port on 127.0.0.1. */
export async function runContainer(runArgs: string[], port: number): Promise<RunningContainer> {
  const id = await docker(runArgs);
  const logs = () =>
    exec('docker', ['logs', id], { maxBuffer: 64 << 20 }).then(
      ({ stdout, stderr }) => stdout + stderr,
      (e: Error) => e.message,
    );
  const remove = async () => {
    await docker(['rm', '--force', id]).catch(() => undefined);
  };
  try {
    const binding = await docker(['port', id, `${port}/tcp`]);
    const m = /^127\.0\.0\.1:(\d+)$/m.exec(binding);
    if (!m) throw new Error(`port ${port} is not published on 127.0.0.1 only: ${binding}`);
    return { id, url: `http://127.0.0.1:${m[1]}`, logs, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** `runContainer(dockerRunArgs(...))`: runs `container` as its Pod would, publishing `opts.port`. */
export function runAsPod(
  pod: PodSpec,
  container: ContainerSpec,
  opts: RunAsPod & { port: number },
): Promise<RunningContainer> {
  return runContainer(dockerRunArgs(pod, container, opts), opts.port);
}

/** Polls `url` until it answers 200 (as a readiness probe does), else fails with the container's logs. */
export async function waitReady(c: RunningContainer, path: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(c.url + path, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    const state = await docker(['inspect', '--format', '{{.State.Status}}', c.id]).catch(() => 'gone');
    if (state !== 'running') throw new Error(`the container is ${state}:\n${await c.logs()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${c.url}${path} did not answer 200 within ${timeoutMs} ms (${last}):\n${await c.logs()}`);
}
