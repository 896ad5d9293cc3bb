/**
 * Activation parses and evaluates only dist/extension.js: the views, the status bar and the
 * command registrations. Everything else (the operations, the workspace parser with its
 * schemas, the runtimes, the simulator) is dist/engine.js, required the first time a view scans
 * the workspace, a status is polled or a command runs. Like ./kubeLoader.ts for client-node.
 */
import { join } from 'node:path';
import type * as Engine from './engineBundle';

type EngineModule = typeof Engine;
let loaded: EngineModule | undefined;

/** The engine, loaded from dist/engine.js the first time it is needed. */
export function loadEngine(): EngineModule {
  // A computed path keeps esbuild from inlining the module into the activation bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require(join(__dirname, 'engine.js')) as EngineModule;
  return loaded;
}
