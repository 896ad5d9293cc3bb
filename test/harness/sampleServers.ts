/** Real MLServer processes, one per sample model version, from the provisioned MLServer environment. */
import { join } from 'node:path';
import { runCommand } from '../../src/process/execaRunner';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import { ensureMlserverEnv } from '../../src/runtime/python';
import { SAMPLE_MODELS, toolCache } from './tools';

/** Starts `models` (folders of sample-models/) side by side; their logs go to `logDir`. */
export async function startSampleModelServers(models: string[], logDir: string): Promise<ModelServer[]> {
  const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
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
