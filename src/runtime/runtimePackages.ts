/**
 * MLServer's inference runtimes beyond scikit-learn: XGBoost and LightGBM. The MLServer
 * environment (python.ts) carries scikit-learn only; a runtime's packages are added to it the
 * first time a deployed model uses that runtime, and never again while they import.
 *
 * Installed with `--no-deps`: every dependency they have (mlserver, numpy, scipy, pandas) is
 * already in the environment at its pinned version, so nothing there moves. XGBoost comes as
 * `xgboost-cpu`, the same `xgboost` module without the NVIDIA NCCL library (about 300 MB) that
 * the `xgboost` wheel pulls in on Linux; model servers here run on CPUs.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_RUNTIMES, type ModelRuntimeName } from '../core/workspace/modelRuntimes';
import type { CommandRunner, RunOptions } from '../process/command';
import { runCommand } from '../process/execaRunner';
import { MLSERVER_VERSION, PythonEnvError, pipInstall, pipStep, type MlserverEnv } from './python';

export interface ModelRuntime {
  /** The user's word for it (`--runtime`, docs). */
  name: ModelRuntimeName;
  /** MLServer's `implementation` class in model-settings.json. */
  implementation: string;
  /** Pinned together with MLServer (python.ts). */
  packages: readonly string[];
  /** The modules that must import for the runtime to load models. */
  modules: readonly string[];
}

/** The runtimes the environment installs on demand (scikit-learn is always there). */
export const EXTRA_RUNTIMES: readonly ModelRuntime[] = [
  {
    name: 'xgboost',
    implementation: MODEL_RUNTIMES.xgboost,
    packages: [`mlserver-xgboost==${MLSERVER_VERSION}`, 'xgboost-cpu==3.2.0'],
    modules: ['mlserver_xgboost', 'xgboost'],
  },
  {
    name: 'lightgbm',
    implementation: MODEL_RUNTIMES.lightgbm,
    packages: [`mlserver-lightgbm==${MLSERVER_VERSION}`, 'lightgbm==4.7.0'],
    modules: ['mlserver_lightgbm', 'lightgbm'],
  },
];

/** The extra runtime a model's `implementation` needs, if any. */
export function runtimeOf(implementation: string): ModelRuntime | undefined {
  return EXTRA_RUNTIMES.find((r) => r.implementation === implementation);
}

/** A runtime by its name; throws listing the known ones. */
export function runtimeNamed(name: string): ModelRuntime {
  const found = EXTRA_RUNTIMES.find((r) => r.name === name);
  if (!found)
    throw new PythonEnvError(
      `unknown runtime "${name}" — the runtimes installed on demand are ${EXTRA_RUNTIMES.map((r) => r.name).join(', ')} (scikit-learn is always there)`,
    );
  return found;
}

const marker = (env: MlserverEnv, runtime: ModelRuntime): string =>
  join(env.dir, `.model-canary-runtime-${runtime.name}`);

/**
 * Makes sure the environment can load models of these implementations: installs the packages of
 * each extra runtime they need that is not installed yet. Returns the runtimes it installed.
 */
export async function ensureRuntimes(
  run: CommandRunner,
  env: MlserverEnv,
  implementations: Iterable<string>,
  opts: RunOptions = {},
): Promise<ModelRuntime[]> {
  const needed = [...new Set([...implementations].map(runtimeOf))].filter(
    (r): r is ModelRuntime => r !== undefined,
  );
  const missing: ModelRuntime[] = [];
  for (const runtime of needed) {
    const pins = runtime.packages.join('\n') + '\n';
    const installed = existsSync(marker(env, runtime))
      ? await readFile(marker(env, runtime), 'utf8').catch(() => '')
      : '';
    // Imported once after installing; afterwards the marker and the packages' folders suffice
    // (importing them again costs seconds on every deploy).
    if (installed === pins && (await hasModules(env, runtime))) continue;
    missing.push(runtime);
  }
  if (missing.length === 0) return [];
  opts.onLine?.(`installing the ${missing.map((r) => r.name).join(' and ')} runtime into ${env.dir}`);
  for (const runtime of missing) await rm(marker(env, runtime), { force: true });
  await pipStep(
    run,
    pipInstall(env.python, ['--no-deps', ...missing.flatMap((r) => r.packages)]),
    opts,
    'pip install',
    'Check that PyPI is reachable (or set PIP_INDEX_URL / a proxy), then try again.',
  );
  for (const runtime of missing) {
    if (!(await imports(run, env, runtime, opts)))
      throw new PythonEnvError(
        `the ${runtime.name} runtime was installed into ${env.dir} but ${runtime.modules.join(' or ')} does not import — on Debian/Ubuntu it needs libgomp1 (sudo apt-get install libgomp1); then try again`,
      );
    await writeFile(marker(env, runtime), runtime.packages.join('\n') + '\n');
  }
  return missing;
}

/** ensureRuntimes for a deploy: XGBoost and LightGBM are installed the first time a deployed model uses them. */
export function ensureRuntimesOf(
  env: MlserverEnv,
  names: readonly string[],
  models: ReadonlyMap<string, { implementation: string }>,
  options: { signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<ModelRuntime[]> {
  const implementations = names.map((n) => models.get(n)?.implementation ?? '');
  return ensureRuntimes(runCommand, env, implementations, {
    signal: options.signal,
    onLine: options.onProgress,
  });
}

async function imports(
  run: CommandRunner,
  env: MlserverEnv,
  runtime: ModelRuntime,
  opts: RunOptions,
): Promise<boolean> {
  const result = await run(
    {
      command: env.python,
      args: ['-c', `import ${runtime.modules.join(', ')}`],
      parse: () => undefined,
    },
    { signal: opts.signal, timeoutMs: 120_000 },
  );
  if (result.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
  return result.kind === 'ok';
}

async function hasModules(env: MlserverEnv, runtime: ModelRuntime): Promise<boolean> {
  const lib = join(env.dir, 'lib');
  const pythons = await readdir(lib).catch(() => [] as string[]);
  return pythons.some((p) =>
    runtime.modules.every((m) => existsSync(join(lib, p, 'site-packages', m, '__init__.py'))),
  );
}
