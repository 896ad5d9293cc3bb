/**
 * The ids of every command the extension registers (without the `modelCanary.` prefix).
 * vscode-free so a plain unit test can hold it against package.json both ways; the
 * command table is typed by it, so the compiler holds the table to it.
 */
export const COMMAND_PREFIX = 'modelCanary.';

export const COMMAND_IDS = [
  'refresh',
  'runDoctor',
  'showLogs',
  'openFile',
  'startLocal',
  'stopLocal',
  'deployExperiment',
  'simulateTraffic',
  'setTrafficSplit',
  'promoteCandidate',
  'rollBack',
  'openDashboard',
  'showReport',
  'selectEnvironment',
  'createKindCluster',
  'deleteKindCluster',
  'promoteToCluster',
  'exportManifests',
  'startRollout',
  'pauseRollout',
  'resumeRollout',
  'approveRollout',
  'abortRollout',
  'planExperiment',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
