/** Real MLServer processes, one per sample model version, from the provisioned MLServer environment. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/process/execaRunner';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import { ensureMlserverEnv } from '../../src/runtime/python';
import { ensureRuntimes } from '../../src/runtime/runtimePackages';
import { SAMPLE_MODELS, toolCache } from './tools';

/** Starts `models` (folders of sample-models/) side by side; their logs go to `logDir`. */
export async function startSampleModelServers(models: string[], logDir: string): Promise<ModelServer[]> {
  const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
  // The XGBoost model needs its runtime: installed once (the process runtime does the same on deploy).
  const implementations = await Promise.all(
    models.map(async (model) => {
      const settings = JSON.parse(await readFile(join(SAMPLE_MODELS, model, 'model-settings.json'), 'utf8'));
      return String((settings as { implementation?: unknown }).implementation ?? '');
    }),
  );
  await ensureRuntimes(runCommand, env, implementations);
  return Promise.all(
    models.map((model) =>
      startModelServer({
        mlserver: env.mlserver,
        modelDir: join(SAMPLE_MODELS, model),
        modelName: model,
        logFile: join(logDir, `${model}.log`),
      }),
    ),
  );
}
