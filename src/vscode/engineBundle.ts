/** The entry of dist/engine.js: what the extension loads on first use (./engine.ts). */
export { commandTable, dashboardActionHandler } from './commandTable';
export { scanWorkspace } from '../core/workspace/discover';
export { experimentRuns } from '../operations/runs';
export { ProcessRuntime } from '../runtime/processRuntime';
