/**
 * MLServer's inference runtimes the workspace's models may name in model-settings.json
 * (`implementation`). The process runtime installs each one's packages when a deployed model
 * uses it (src/runtime/runtimePackages.ts); the manifests run each one's MLServer image.
 */
export type ModelRuntimeName = 'sklearn' | 'xgboost' | 'lightgbm';

export const MODEL_RUNTIMES: Readonly<Record<ModelRuntimeName, string>> = Object.freeze({
  sklearn: 'mlserver_sklearn.SKLearnModel',
  xgboost: 'mlserver_xgboost.XGBoostModel',
  lightgbm: 'mlserver_lightgbm.LightGBMModel',
});

/** The runtime of a model's `implementation`; undefined for another class (a custom runtime). */
export function modelRuntimeOf(implementation: string): ModelRuntimeName | undefined {
  return (Object.keys(MODEL_RUNTIMES) as ModelRuntimeName[]).find(
    (n) => MODEL_RUNTIMES[n] === implementation,
  );
}
