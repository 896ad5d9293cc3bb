/**
 * The cluster flows behind `model-canary cluster create|delete|status` and the VS Code commands:
 * create checks first (the doctor's findings, so the user gets the fix, not kind's stack of
 * errors), then creates the cluster from a generated config — the workspace mounted at /models in
 * the node, the router's NodePort on 127.0.0.1:<router port>, the pinned node image — streaming
 * kind's progress lines.
 */
import type { CommandRunner, RunOptions } from '../process/command';
import { KindClient, KindError, kindClusterConfig } from './client';
import { DEFAULT_NODE_IMAGE, kindContextName, ROUTER_NODE_PORT } from './commands';
import { runDoctor, type DoctorReport, type Finding } from './doctor';
import { explainKindFailure, kindNotFound, type KindProblem } from './errors';

export const DEFAULT_CLUSTER_NAME = 'model-canary';

export interface KindClusterOptions {
  kindBinary: string;
  name?: string;
  /** Extra environment for kind and the engine (e.g. PATH). */
  env?: Record<string, string>;
  engine?: string;
  signal?: AbortSignal;
  /** Progress for the user: the checks, then each line kind prints. */
  onProgress?: (line: string) => void;
}

export interface CreateClusterOptions extends KindClusterOptions {
  /** The workspace folder, mounted read-only at /models in the node (model servers read their model there). */
  workspace?: string;
  /** Host port on 127.0.0.1 the router's NodePort is mapped to. */
  hostPort: number;
  /** Node image; default the digest-pinned image of kind v0.33.0. */
  image?: string;
  /** kind's --wait for the control plane. */
  wait?: string;
  /** Where inotify limits are read (tests). */
  procRoot?: string;
}

export interface CreatedCluster {
  name: string;
  context: string;
  image: string;
  /** The kind config that was used. */
  config: Record<string, unknown>;
  doctor: DoctorReport;
}

/** Checks, then creates the cluster; KindError with the fix when it cannot. */
export async function createKindCluster(
  run: CommandRunner,
  o: CreateClusterOptions,
): Promise<CreatedCluster> {
  const name = o.name ?? DEFAULT_CLUSTER_NAME;
  const progress = o.onProgress ?? (() => undefined);
  progress('checking Docker, kind and the router port');
  const doctor = await runDoctor(run, {
    kindBinary: o.kindBinary,
    clusterName: name,
    hostPort: o.hostPort,
    engine: o.engine,
    env: o.env,
    signal: o.signal,
    procRoot: o.procRoot,
  });
  const blocker = doctor.findings.find((f) => f.status === 'error');
  if (blocker) throw new KindError(problemOf(blocker, o.kindBinary));
  const cluster = doctor.findings.find((f) => f.id === 'cluster');
  if (cluster?.detail.startsWith('exists'))
    throw new KindError(
      explainKindFailure(`node(s) already exist for a cluster with the name "${name}"`, { cluster: name }),
    );
  // The cluster does not exist yet, so whatever holds the port is not its router.
  const port = doctor.findings.find((f) => f.id === 'host-port');
  if (port?.status !== 'ok')
    throw new KindError(
      explainKindFailure('address already in use', {
        port: Number(/: (\d+)/.exec(port?.detail ?? '')?.[1] ?? o.hostPort),
      }),
    );
  for (const f of doctor.findings.filter((x) => x.status === 'warning'))
    progress(`warning: ${f.title}: ${f.detail}${f.fix ? ` — ${f.fix}` : ''}`);

  const image = o.image ?? DEFAULT_NODE_IMAGE;
  const configOptions = { modelsDir: o.workspace, hostPort: o.hostPort, nodePort: ROUTER_NODE_PORT };
  progress(`creating kind cluster "${name}" (${image.split('@')[0]})`);
  const kind = new KindClient(run, o.kindBinary, o.env);
  const context = await kind.createCluster(name, configOptions, {
    image,
    wait: o.wait,
    signal: o.signal,
    onLine: (line) => progress(cleanProgressLine(line)),
  });
  return { name, context, image, config: kindClusterConfig(configOptions), doctor };
}

/** Deletes the cluster (kind succeeds when it does not exist). */
export async function deleteKindCluster(run: CommandRunner, o: KindClusterOptions): Promise<void> {
  const name = o.name ?? DEFAULT_CLUSTER_NAME;
  const kind = new KindClient(run, o.kindBinary, o.env);
  await kind.deleteCluster(name, { signal: o.signal, onLine: (l) => o.onProgress?.(cleanProgressLine(l)) });
}

export interface KindClusterStatus {
  name: string;
  exists: boolean;
  context: string;
  /** Every kind cluster on this machine. */
  clusters: string[];
}

/** Whether the cluster exists; KindError (Docker not running…) when kind cannot tell. */
export async function kindClusterStatus(
  run: CommandRunner,
  o: KindClusterOptions,
): Promise<KindClusterStatus> {
  const name = o.name ?? DEFAULT_CLUSTER_NAME;
  const clusters = await new KindClient(run, o.kindBinary, o.env).listClusters({
    signal: o.signal,
  } satisfies RunOptions);
  return { name, exists: clusters.includes(name), context: kindContextName(name), clusters };
}

// kind draws spinners with ANSI escapes and emoji; progress wants the words.
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
export function cleanProgressLine(line: string): string {
  return line.replace(ANSI_ESCAPE, '').replace(/\s+$/, '').trimStart();
}

function problemOf(f: Finding, kindBinary: string): KindProblem {
  if (f.id === 'kind-binary' && /not found/.test(f.detail)) return kindNotFound(kindBinary);
  const code: KindProblem['code'] =
    f.id === 'engine-binary'
      ? 'docker-not-installed'
      : f.id === 'engine-daemon'
        ? /permission/i.test(f.fix ?? '')
          ? 'docker-permission'
          : 'docker-not-running'
        : 'unknown';
  return { code, message: f.fix ?? `${f.title}: ${f.detail}`, detail: f.detail };
}
