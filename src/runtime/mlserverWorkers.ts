/**
 * Several MLServer processes serving one model on one HTTP (and gRPC) port, so a variant's
 * capacity follows its traffic share (`spec.serving`, ../core/spec/serving.ts).
 *
 * Why processes on a shared port, not MLServer's own `parallel_workers`: MLServer 1.7's
 * inference pool dies at start with uvloop ≥ 0.22 (SeldonIO/MLServer#2286), and even when it
 * starts, its single front process still parses and answers every HTTP request, which is most
 * of the cost of a one-row scikit-learn prediction. Why not one port per process: the router
 * has one upstream URL per variant. So a small Python launcher sets SO_REUSEPORT on the
 * sockets MLServer binds and forks N MLServers; Linux spreads incoming connections over them
 * (the router's pooled keep-alive connections land on all of them). Each worker runs in a
 * session of its own: Linux's scheduler autogroups share the CPU between sessions, so workers of
 * one session would together get one process's share, and under load the busy arm's 8 workers
 * answered twice as slowly as the other arm's one. The launcher stops them all when it gets
 * SIGTERM (stopProcessGroup), they die with it when it is killed (PR_SET_PDEATHSIG), and it
 * exits as soon as one of them does, so a dead worker shows as a stopped model server. Other
 * systems do not balance SO_REUSEPORT connections: there a variant runs one process, and the
 * runtime says so.
 */
import { request } from 'node:http';
import { dirname, join } from 'node:path';

/** Whether this system can run several MLServer processes behind one port. */
export const SHARED_PORT_SUPPORTED = process.platform === 'linux';

/** Why a variant runs one process where sizing asked for more (undefined when it can be sized). */
export function sizingUnsupportedReason(): string | undefined {
  return SHARED_PORT_SUPPORTED
    ? undefined
    : `${process.platform} does not balance connections over processes sharing a port (SO_REUSEPORT), so each model runs one MLServer process`;
}

// argv: workers, comma-separated metrics ports (one per worker), then MLServer's own arguments.
const LAUNCHER = `
import ctypes, os, signal, socket, sys
launcher = os.getpid()
workers = int(sys.argv[1])
metrics = sys.argv[2].split(",")
args = sys.argv[3:]
_bind = socket.socket.bind
def bind(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and self.type == socket.SOCK_STREAM:
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return _bind(self, address)
socket.socket.bind = bind
children = []
for i in range(workers):
    pid = os.fork()
    if pid == 0:
        # Its own session, so its own scheduler autogroup: with autogrouping (most Linux
        # desktops) CPU is shared fairly between sessions, and N workers in one session would get
        # one process's share. Killed with the launcher, whose process group it leaves.
        os.setsid()
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != launcher:
            os._exit(1)
        os.environ["MLSERVER_METRICS_PORT"] = metrics[i]
        from mlserver.cli import main
        sys.argv = ["mlserver"] + args
        sys.exit(main())
    children.append(pid)
def stop(*_):
    for child in children:
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
_, status = os.wait()
print(f"model-canary: an MLServer worker exited ({status}); stopping the others", flush=True)
stop()
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
sys.exit(1)
`;

/** The command and arguments that start `workers` MLServers of `modelDir` on the ports of the environment. */
export function workersCommand(
  mlserver: string,
  modelDir: string,
  workers: number,
  metricsPorts: readonly number[],
): { command: string; args: string[] } {
  if (workers <= 1) return { command: mlserver, args: ['start', modelDir] };
  // The environment's python sits beside its `mlserver` entry point (a virtual environment's bin/).
  return {
    command: join(dirname(mlserver), 'python'),
    args: ['-c', LAUNCHER, String(workers), metricsPorts.join(','), 'start', modelDir],
  };
}

/**
 * Resolves once every worker behind `url` answers 200: each check opens a new connection, which
 * the kernel hands to a worker at random, and 5 × workers successes in a row leave a worker
 * still loading its model unnoticed with a chance of about e^-5 (< 1%).
 */
export async function waitAllWorkersReady(
  url: string,
  workers: number,
  deadline: number,
  signal?: AbortSignal,
): Promise<void> {
  let streak = 0;
  while (streak < 5 * workers) {
    signal?.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(`not every one of ${workers} MLServer workers at ${url} became ready`);
    if (await freshConnectionOk(url)) streak++;
    else {
      streak = 0;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function freshConnectionOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
