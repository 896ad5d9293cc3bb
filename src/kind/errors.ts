/**
 * kind's failures in the user's words, each with the fix. kind reports container-engine
 * trouble with the engine's raw output; we recognise the usual cases.
 */

export type KindProblemCode =
  | 'docker-not-installed'
  | 'docker-not-running'
  | 'docker-permission'
  | 'cluster-exists'
  | 'port-in-use'
  | 'kind-not-found'
  | 'unknown';

export interface KindProblem {
  code: KindProblemCode;
  /** What went wrong and how to fix it, in one or two sentences. */
  message: string;
  /** kind's own output, for the logs. */
  detail: string;
}

const RETRY = 'then run Model Canary: Run Doctor (or `model-canary doctor`) again';

/** Maps kind's stderr to a problem a user can act on. */
export function explainKindFailure(
  stderr: string,
  context: { cluster?: string; port?: number } = {},
): KindProblem {
  const detail = stderr.trim();
  const has = (re: RegExp): boolean => re.test(detail);
  if (
    has(/executable file not found in \$PATH|no such file or directory.*docker|docker: not found/i) &&
    has(/docker/i)
  ) {
    return {
      code: 'docker-not-installed',
      message: `Docker is not installed — kind runs Kubernetes nodes as containers. Install Docker Desktop (or Docker Engine / Podman), ${RETRY}. Without Docker, run experiments on local processes (Model Canary: Select Environment → local processes, then Start Environment): they need no containers.`,
      detail,
    };
  }
  if (has(/permission denied.*docker\.sock/i)) {
    return {
      code: 'docker-permission',
      message: `Docker refused the connection (permission denied on docker.sock) — add your user to the "docker" group and log in again, ${RETRY}.`,
      detail,
    };
  }
  if (
    has(
      /Cannot connect to the Docker daemon|Is the docker daemon running|failed to connect to the docker API|docker\.sock.*connect|error during connect/i,
    )
  ) {
    return {
      code: 'docker-not-running',
      message: `Docker is not running — start Docker Desktop (or \`sudo systemctl start docker\`), ${RETRY}.`,
      detail,
    };
  }
  if (has(/node\(s\) already exist for a cluster with the name/i)) {
    const name = context.cluster ?? /name "([^"]+)"/.exec(detail)?.[1] ?? 'model-canary';
    return {
      code: 'cluster-exists',
      message: `A kind cluster named "${name}" already exists — use it (Select Environment → kind-${name}) or delete it first with \`kind delete cluster --name ${name}\`.`,
      detail,
    };
  }
  if (has(/address already in use|port is already allocated/i)) {
    const port = context.port ?? /:(\d+)/.exec(detail)?.[1];
    return {
      code: 'port-in-use',
      message: `Port ${port ?? '(see details)'} on 127.0.0.1 is already in use — stop what listens there or change the setting modelCanary.router.port, ${RETRY}.`,
      detail,
    };
  }
  return { code: 'unknown', message: `kind failed: ${lastErrorLine(detail)}`, detail };
}

/** The message for a kind binary that cannot be found. */
export function kindNotFound(binary: string): KindProblem {
  return {
    code: 'kind-not-found',
    message: `The kind binary "${binary}" was not found — install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. \`go install sigs.k8s.io/kind@v0.33.0\`) or set modelCanary.kind.path to its location.`,
    detail: '',
  };
}

function lastErrorLine(detail: string): string {
  const lines = detail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => l.startsWith('ERROR:')) ?? lines[lines.length - 1] ?? 'no output';
}
