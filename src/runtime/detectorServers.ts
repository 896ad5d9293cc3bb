/**
 * Bring-your-own detectors in the local environment: one MLServer process per detector, running
 * MLServer's Alibi Detect runtime from its own provisioned environment (alibi-detect needs
 * numpy < 2; the models' environment pins numpy 2), on free loopback ports like the models.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readSavedDetector } from '../core/drift/savedDetector';
import { detectorModelName } from '../core/spec/detectorSpec';
import type { Experiment } from '../core/spec/experiment';
import type { CommandRunner } from '../process/command';
import { startModelServer, stopProcessGroup } from './modelServer';
import { findPython } from './python';
import { RuntimeError } from './runtime';
import { isAlive, writeState, type RuntimeState } from './state';

/** Pinned in tools/versions.env; tools/install-alibi-detect.sh makes the environment. */
export const ALIBI_DETECT_VERSION = '0.13.0';
export const MLSERVER_ALIBI_DETECT_VERSION = '1.6.1';
const MLSERVER_VERSION = '1.7.1';

/** The folder tools/install-alibi-detect.sh installs into, for a Python `major.minor`. */
export function alibiDetectEnvDir(cacheDir: string, pythonVersion: readonly number[]): string {
  const py = pythonVersion.slice(0, 2).join('');
  return join(
    cacheDir,
    'python',
    `alibi-detect-${ALIBI_DETECT_VERSION}-mlserver-${MLSERVER_VERSION}-py${py}`,
  );
}

/** The `mlserver` of the Alibi Detect environment; throws a RuntimeError saying how to make it. */
export async function findAlibiDetectMlserver(
  run: CommandRunner,
  opts: { python?: string; cacheDir: string; signal?: AbortSignal },
): Promise<string> {
  const python = await findPython(run, opts.python, { signal: opts.signal });
  const dir = alibiDetectEnvDir(opts.cacheDir, python.version);
  const mlserver = join(dir, 'bin', 'mlserver');
  if (!existsSync(join(dir, '.complete')) || !existsSync(mlserver))
    throw new RuntimeError(
      `bring-your-own detectors need MLServer's Alibi Detect runtime (mlserver-alibi-detect ${MLSERVER_ALIBI_DETECT_VERSION}), which is not installed in ${dir} — run \`bash tools/install-alibi-detect.sh\` (or \`npm run provision\`), then deploy again`,
    );
  return mlserver;
}

/**
 * Starts (or keeps) a server for each detector of `experiment`, recorded in `state.modelServers`
 * under its model name, so `status`, `logs` and `down` treat it like a model server.
 */
export async function startDetectorServers(
  state: RuntimeState,
  stateDir: string,
  experiment: Experiment,
  mlserver: () => Promise<string>,
  opts: { readyTimeoutMs?: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<void> {
  for (const d of experiment.spec.drift?.detectors ?? []) {
    const folder = resolve(dirname(experiment.file), d.path);
    const saved = await readSavedDetector(folder).catch((err: Error) => {
      throw new RuntimeError(`${experiment.file}: spec.drift.detectors "${d.name}": ${err.message}`);
    });
    if (saved.kind !== 'unknown' && saved.kind !== d.kind)
      throw new RuntimeError(
        `${experiment.file}: spec.drift.detectors "${d.name}" is a ${saved.method}, an ${saved.kind} detector — set kind: ${saved.kind}`,
      );
    const model = detectorModelName(experiment.metadata.name, d.name);
    const running = state.modelServers[model];
    if (running && running.dir === folder && isAlive(running.pid)) continue;
    if (running) await stopProcessGroup(running.pid, 2_000);
    const settingsDir = join(stateDir, 'detectors', model);
    await mkdir(settingsDir, { recursive: true });
    await writeFile(
      join(settingsDir, 'model-settings.json'),
      JSON.stringify(detectorModelSettings(model, folder), null, 2) + '\n',
    );
    opts.onProgress?.(`starting MLServer's Alibi Detect runtime for detector ${d.name} (${saved.method})`);
    const server = await startModelServer({
      mlserver: await mlserver(),
      modelDir: settingsDir,
      modelName: model,
      logFile: join(stateDir, 'logs', `${model}.log`),
      readyTimeoutMs: opts.readyTimeoutMs,
      signal: opts.signal,
      detach: true,
    });
    state.modelServers[model] = {
      pid: server.pid,
      url: server.url,
      logFile: server.logFile,
      dir: folder,
      ports: server.ports,
    };
    await writeState(state);
  }
}

/** MLServer's model-settings.json for a saved detector: the Alibi Detect runtime, the folder as its URI. */
export function detectorModelSettings(model: string, folder: string): object {
  return {
    name: model,
    implementation: 'mlserver_alibi_detect.AlibiDetectRuntime',
    parameters: { uri: folder, version: 'v1' },
  };
}

/** The router config's `detectors` of an experiment: the servers `startDetectorServers` recorded. */
export function routerDetectors(
  state: RuntimeState,
  experiment: Experiment,
): { name: string; url: string; model: string }[] {
  return (experiment.spec.drift?.detectors ?? []).flatMap((d) => {
    const model = detectorModelName(experiment.metadata.name, d.name);
    const server = state.modelServers[model];
    return server ? [{ name: d.name, url: server.url, model }] : [];
  });
}
