/**
 * What each palette command asks the user for, and its CLI twin. Vscode-free so a unit test can
 * compare it with the CLI's flags (test/unit/cliTwins.test.ts): every command that acts has a
 * twin, and both ask for the same inputs. `fixed` inputs come from the command itself (Pause
 * Rollout is `rollout pause`). Commands that only navigate the UI are listed in UI_ONLY.
 */
export interface PalettePrompt {
  twin: string;
  asks: string[];
  fixed?: Record<string, string>;
}

export const PALETTE_PROMPTS: Record<string, PalettePrompt> = {
  startLocal: { twin: 'up', asks: [] },
  stopLocal: { twin: 'down', asks: [] },
  deployExperiment: { twin: 'deploy', asks: ['experimentFile'] },
  // protocol: asked only when the router has a gRPC port (the local environment's or kind's).
  simulateTraffic: { twin: 'simulate', asks: ['experiment', 'requests', 'drift', 'protocol'] },
  setTrafficSplit: { twin: 'split', asks: ['experiment', 'weights'] },
  promoteCandidate: { twin: 'promote-candidate', asks: ['experiment', 'candidate'] },
  rollBack: { twin: 'roll-back', asks: ['experiment'] },
  startRollout: { twin: 'rollout', asks: ['experiment', 'candidate'], fixed: { action: 'start' } },
  pauseRollout: { twin: 'rollout', asks: ['experiment'], fixed: { action: 'pause' } },
  resumeRollout: { twin: 'rollout', asks: ['experiment'], fixed: { action: 'resume' } },
  approveRollout: { twin: 'rollout', asks: ['experiment'], fixed: { action: 'approve' } },
  abortRollout: { twin: 'rollout', asks: ['experiment'], fixed: { action: 'abort' } },
  openDashboard: { twin: 'dashboard', asks: ['experiment'] },
  showReport: { twin: 'report', asks: ['experiment', 'run'] },
  showLogs: { twin: 'logs', asks: ['component'] },
  createKindCluster: { twin: 'cluster', asks: [], fixed: { action: 'create' } },
  deleteKindCluster: { twin: 'cluster', asks: [], fixed: { action: 'delete' } },
  promoteToCluster: { twin: 'promote', asks: ['experiment', 'context', 'plan', 'modelUriBase'] },
  exportManifests: {
    twin: 'export',
    // allowLossy: "Export Anyway" when the target would drop arms of the experiment.
    asks: ['experiment', 'target', 'modelUriBase', 'out', 'allowLossy'],
  },
  runDoctor: { twin: 'doctor', asks: [] },
  planExperiment: { twin: 'plan', asks: ['experiment', 'rps'] },
};

/** Commands that change only what VS Code shows (the CLI picks an environment with --runtime/--context). */
export const UI_ONLY = ['refresh', 'openFile', 'selectEnvironment'];
