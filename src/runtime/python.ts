/**
 * The Python environment MLServer runs in: a virtual environment the tool creates once
 * (keyed by the pinned packages), reuses while healthy, and rebuilds when it is not.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CommandDescription, CommandRunner, RunOptions } from '../process/command';

/** Pinned together: mlserver-sklearn 1.7.1 loads artifacts saved by exactly this scikit-learn. */
export const MLSERVER_PACKAGES = [
  'mlserver==1.7.1',
  'mlserver-sklearn==1.7.1',
  'scikit-learn==1.9.1',
  'numpy==2.4.6',
  'pandas==3.1.1',
  'joblib==1.6.0',
];
export const MLSERVER_VERSION = '1.7.1';
/** MLServer 1.7 supports these Python versions. */
export const PYTHON_RANGE = { min: [3, 9], maxExclusive: [3, 13] } as const;

export class PythonEnvError extends Error {
  constructor(
    message: string,
    readonly detail = '',
  ) {
    super(message);
    this.name = 'PythonEnvError';
  }
}

export interface PythonInfo {
  executable: string;
  version: [number, number, number];
}

export interface MlserverEnv {
  dir: string;
  python: string;
  /** The `mlserver` entry point. */
  mlserver: string;
  /** True when this call created it. */
  created: boolean;
}

const probe = (python: string): CommandDescription<PythonInfo> => ({
  command: python,
  args: ['-c', 'import sys; print(sys.executable); print(*sys.version_info[:3])'],
  parse: (stdout) => {
    const [executable, version] = stdout.trim().split('\n');
    const parts = (version ?? '').split(' ').map(Number);
    if (!executable || parts.length !== 3 || parts.some(Number.isNaN))
      throw new Error(`unexpected output "${stdout.trim()}"`);
    return { executable, version: parts as [number, number, number] };
  },
});

const SETTING_HINT = 'set modelCanary.python.path in VS Code, or pass --python to model-canary';

/** Finds a usable Python: the configured one, else python3, else python. */
export async function findPython(
  run: CommandRunner,
  configured: string | undefined,
  options: RunOptions = {},
): Promise<PythonInfo> {
  const candidates = configured?.trim() ? [configured.trim()] : ['python3', 'python'];
  const tried: string[] = [];
  for (const candidate of candidates) {
    const result = await run(probe(candidate), { signal: options.signal, timeoutMs: 30_000 });
    if (result.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
    if (result.kind !== 'ok') {
      tried.push(`${candidate}: ${result.kind === 'not-found' ? 'not found' : result.message}`);
      continue;
    }
    const [major, minor] = result.value.version;
    const { min, maxExclusive } = PYTHON_RANGE;
    const tooOld = major < min[0] || (major === min[0] && minor < min[1]);
    const tooNew = major > maxExclusive[0] || (major === maxExclusive[0] && minor >= maxExclusive[1]);
    if (tooOld || tooNew) {
      throw new PythonEnvError(
        `Python ${result.value.version.join('.')} at ${result.value.executable} is ${tooOld ? 'too old' : 'too new'} for MLServer ${MLSERVER_VERSION} (it needs 3.${min[1]}–3.${maxExclusive[1] - 1}) — install a supported Python and ${SETTING_HINT}.`,
      );
    }
    return result.value;
  }
  throw new PythonEnvError(
    `Python 3 was not found (${tried.join('; ')}) — install Python 3.${PYTHON_RANGE.min[1]}–3.${PYTHON_RANGE.maxExclusive[1] - 1} (https://www.python.org/downloads/), or ${SETTING_HINT}.`,
  );
}

/** The folder of the environment for these pins under `cacheDir`. */
export function mlserverEnvDir(cacheDir: string, pythonVersion: readonly number[]): string {
  const key = createHash('sha256')
    .update(MLSERVER_PACKAGES.join('\n'))
    .update(pythonVersion.slice(0, 2).join('.'))
    .digest('hex')
    .slice(0, 12);
  return join(
    cacheDir,
    'python',
    `mlserver-${MLSERVER_VERSION}-py${pythonVersion.slice(0, 2).join('')}-${key}`,
  );
}

const READY_MARKER = '.model-canary-ready';

/**
 * Returns a healthy MLServer environment, creating it when needed. Progress lines (pip's
 * own) go to `onLine`; cancelling leaves no half-made environment marked as ready.
 */
export async function ensureMlserverEnv(
  run: CommandRunner,
  opts: { python?: string; cacheDir: string } & RunOptions,
): Promise<MlserverEnv> {
  const python = await findPython(run, opts.python, opts);
  const dir = mlserverEnvDir(opts.cacheDir, python.version);
  const env = {
    dir,
    python: join(dir, 'bin', 'python'),
    mlserver: join(dir, 'bin', 'mlserver'),
    created: false,
  };
  if (existsSync(join(dir, READY_MARKER)) && (await isHealthy(run, env.python, opts))) return env;

  opts.onLine?.(`creating the MLServer environment in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await pipStep(
    run,
    { command: python.executable, args: ['-m', 'venv', dir], parse: () => undefined },
    opts,
    'python -m venv',
    'On Debian/Ubuntu install the venv module: sudo apt-get install python3-venv.',
  );
  await pipStep(
    run,
    pipInstall(env.python, [...MLSERVER_PACKAGES]),
    opts,
    'pip install',
    'Check that PyPI is reachable (or set PIP_INDEX_URL / a proxy), then try again.',
  );
  if (!(await isHealthy(run, env.python, opts))) {
    throw new PythonEnvError(
      `The new MLServer environment in ${dir} cannot import mlserver — delete the folder and try again.`,
    );
  }
  await writeFile(join(dir, READY_MARKER), MLSERVER_PACKAGES.join('\n') + '\n');
  return { ...env, created: true };
}

async function isHealthy(run: CommandRunner, python: string, opts: RunOptions): Promise<boolean> {
  const result = await run(
    {
      command: python,
      args: ['-c', 'import mlserver, mlserver_sklearn, sklearn; print(mlserver.__version__)'],
      parse: (stdout) => stdout.trim(),
    },
    { signal: opts.signal, timeoutMs: 120_000 },
  );
  return result.kind === 'ok' && result.value === MLSERVER_VERSION;
}

/** Runs one step of building an environment; a failure becomes a PythonEnvError with its fix. */
/** `python -m pip install` quietly, with `args` (options, then packages): the one pip call of the environments. */
export function pipInstall(python: string, args: readonly string[]): CommandDescription<void> {
  return {
    command: python,
    args: [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--progress-bar',
      'off',
      ...args,
    ],
    parse: () => undefined,
  };
}

export async function pipStep(
  run: CommandRunner,
  cmd: CommandDescription<void>,
  opts: RunOptions,
  what: string,
  fix: string,
): Promise<void> {
  const result = await run(cmd, { signal: opts.signal, onLine: opts.onLine });
  if (result.kind === 'ok') return;
  if (result.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
  const detail = result.kind === 'failed' ? result.stderr || result.stdout : result.message;
  const lastError =
    detail
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /error/i.test(l))
      .pop() ??
    detail.trim().split('\n').pop() ??
    '';
  throw new PythonEnvError(`${what} failed: ${lastError} — ${fix}`, detail);
}
