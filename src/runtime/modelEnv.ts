/**
 * Per-model Python environments for custom runtimes: a model folder with a `requirements.txt`
 * beside its model-settings.json is served by an MLServer whose Python also has those packages.
 *
 * The environment is a virtual environment layered over the MLServer environment (python.ts):
 * created `--without-pip`, with a `.pth` file that adds the MLServer environment's site-packages
 * after its own. So MLServer, scikit-learn, numpy and pandas are the pinned ones, shared and not
 * copied, and the model's packages come first on `sys.path`. Not `--system-site-packages`: that
 * exposes the base interpreter's site-packages, not the MLServer environment's. Not a full copy:
 * a venv cannot be copied (its scripts name their interpreter by absolute path), and a fresh
 * MLServer install per model costs about 500 MB and a minute; the layered one costs the model's
 * own packages and about a second. pip (the MLServer environment's, through the `.pth`) sees the
 * shared packages as installed, so a requirement they already satisfy is not installed twice.
 *
 * Cached under `<cache>/python/model-env-<hash>`, the hash over the requirements and the MLServer
 * environment's folder (its pins and Python version): the same requirements share one
 * environment, an edited file gets a new one. Each line must pin a version (requirements.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseRequirements } from '../core/workspace/requirements';
import type { CommandRunner, RunOptions } from '../process/command';
import { PythonEnvError, pipInstall, pipStep, type MlserverEnv } from './python';

export interface ModelEnv {
  dir: string;
  python: string;
  /** An `mlserver` entry point that runs MLServer on this environment's Python. */
  mlserver: string;
  /** True when this call created it. */
  created: boolean;
}

const READY_MARKER = '.model-canary-ready';

/** The folder of the environment for these requirements over this MLServer environment. */
export function modelEnvDir(cacheDir: string, env: MlserverEnv, requirements: readonly string[]): string {
  const key = createHash('sha256')
    .update(basename(env.dir))
    .update('\n')
    .update(requirements.join('\n'))
    .digest('hex')
    .slice(0, 16);
  return join(cacheDir, 'python', `model-env-${key}`);
}

/**
 * Returns the environment a model with this requirements.txt runs in, creating it when needed;
 * refuses a file with unpinned lines, naming the file and line.
 */
export async function ensureModelEnv(
  run: CommandRunner,
  env: MlserverEnv,
  requirementsFile: string,
  opts: { cacheDir: string } & RunOptions,
): Promise<ModelEnv> {
  const text = await readFile(requirementsFile, 'utf8');
  const { requirements, problems } = parseRequirements(text);
  if (problems.length)
    throw new PythonEnvError(problems.map((p) => `${requirementsFile}:${p.line}: ${p.message}`).join('\n'));
  const specs = requirements.map((r) => r.spec);
  const dir = modelEnvDir(opts.cacheDir, env, specs);
  const modelEnv = {
    dir,
    python: join(dir, 'bin', 'python'),
    mlserver: join(dir, 'bin', 'mlserver'),
    created: false,
  };
  const pins = specs.join('\n') + '\n';
  const marked = await readFile(join(dir, READY_MARKER), 'utf8').catch(() => undefined);
  if (marked === pins && existsSync(modelEnv.python) && existsSync(modelEnv.mlserver)) return modelEnv;

  opts.onLine?.(`creating the environment for ${requirementsFile} in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, '..'), { recursive: true });
  await pipStep(
    run,
    { command: env.python, args: ['-m', 'venv', '--without-pip', dir], parse: () => undefined },
    opts,
    'python -m venv',
    'On Debian/Ubuntu install the venv module: sudo apt-get install python3-venv.',
  );
  const sitePackages = await sitePackagesOf(run, modelEnv.python, opts);
  const shared = await sitePackagesOf(run, env.python, opts);
  // addsitedir, not a bare path: .pth files in the MLServer environment are processed too.
  await writeFile(
    join(sitePackages, '_model_canary_mlserver.pth'),
    `import site; site.addsitedir(${JSON.stringify(shared)})\n`,
  );
  if (specs.length > 0)
    await pipStep(
      run,
      pipInstall(modelEnv.python, [...specs]),
      opts,
      `pip install -r ${requirementsFile}`,
      'Check that the pins exist on PyPI and that PyPI is reachable (or set PIP_INDEX_URL / a proxy), then try again.',
    );
  await writeFile(
    modelEnv.mlserver,
    [
      `#!${modelEnv.python}`,
      '# MLServer on the model environment: its packages first, then the MLServer environment.',
      'import sys',
      'from mlserver.cli import main',
      "sys.argv[0] = 'mlserver'",
      'sys.exit(main())',
      '',
    ].join('\n'),
  );
  await chmod(modelEnv.mlserver, 0o755);
  const check = await run(
    { command: modelEnv.python, args: ['-c', 'import mlserver'], parse: () => undefined },
    { signal: opts.signal, timeoutMs: 120_000 },
  );
  if (check.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
  if (check.kind !== 'ok')
    throw new PythonEnvError(
      `the environment for ${requirementsFile} in ${dir} cannot import mlserver — a requirement probably replaced one of MLServer's own packages with an incompatible version; pin the version the MLServer environment has (${env.dir}/bin/pip list), then try again`,
      check.kind === 'failed' ? check.stderr : check.message,
    );
  await writeFile(join(dir, READY_MARKER), pins);
  return { ...modelEnv, created: true };
}

async function sitePackagesOf(run: CommandRunner, python: string, opts: RunOptions): Promise<string> {
  const result = await run(
    {
      command: python,
      args: ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
      parse: (stdout) => stdout.trim(),
    },
    { signal: opts.signal, timeoutMs: 60_000 },
  );
  if (result.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
  if (result.kind !== 'ok')
    throw new PythonEnvError(
      `cannot find the site-packages of ${python}: ${result.kind === 'failed' ? result.stderr : result.message} — delete the folder and try again`,
    );
  return result.value;
}
