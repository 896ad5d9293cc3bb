/** `model-canary demo`: the whole loop on sample-models, printed, then serving until Ctrl-C (or --exit). */
import { formatReportText } from '../core/analysis/format';
import { DEMO_EXPERIMENT, runDemo } from '../operations/demo';
import { startEnvironment } from '../operations/up';
import { stopEnvironment } from '../operations/down';
import { routerPaths } from '../shared/routerApi';
import { numberFlag, progress, untilStopped, type CliContext, type Command } from './command';
import { localRuntime } from './environment';
import { simulationText } from './render';

export const demoCommand = (ctx: CliContext): Command => ({
  summary:
    'the whole loop on sample-models: up, deploy, simulate with drift, report (or an automatic rollout)',
  usage:
    'model-canary demo [--workspace sample-models] [--experiment propensity] [--requests 3000] [--rps 200] [--rollout] [--exit] [--json]',
  help: [
    'Without --exit it keeps serving until Ctrl-C, then shuts everything down.',
    '--experiment names a file of experiments/ (default propensity; propensity-pipeline compares two inference graphs).',
    'With --rollout the router runs a progressive rollout of the candidate (v2; xgb on propensity-pipeline; short demo steps: 150 samples and 3 s each)',
    'while traffic is simulated, until the rollout ends (Succeeded on the sample data); no drift is injected then.',
    'With --json the final report is printed as JSON (plus endpoint, dashboard and simulation fields).',
  ].join('\n'),
  options: {
    workspace: { type: 'string', default: 'sample-models' },
    experiment: { type: 'string', default: DEMO_EXPERIMENT },
    requests: { type: 'string', default: '3000' },
    rps: { type: 'string', default: '200' },
    port: { type: 'string' },
    python: { type: 'string' },
    rollout: { type: 'boolean', default: false },
    exit: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run(v) {
    const runtime = localRuntime(ctx, v);
    const log = progress(!!v.json);
    log('starting the local environment');
    await startEnvironment(runtime, { onProgress: log });
    try {
      const { report, simulation, endpoint, experiment } = await runDemo(
        runtime,
        {
          workspace: runtime.workspace,
          requests: numberFlag(v.requests, '--requests') ?? 3000,
          rps: numberFlag(v.rps, '--rps') ?? 200,
          rollout: !!v.rollout,
          experiment: typeof v.experiment === 'string' ? v.experiment : DEMO_EXPERIMENT,
        },
        { onProgress: log },
      );
      const name = experiment.name;
      const dashboard = `${endpoint}${routerPaths.dashboard(name)}`;
      if (v.json) console.log(JSON.stringify({ ...report, endpoint, dashboard, simulation }, null, 2));
      else {
        console.log(`${simulationText(simulation)}\n\n${formatReportText(report)}\n`);
        console.log(`endpoint:  POST ${endpoint}${routerPaths.infer(experiment.endpoint)}`);
        console.log(`report:    GET  ${endpoint}${routerPaths.report(name)}`);
        console.log(`dashboard: ${dashboard}`);
      }
      if (!v.exit) {
        console.error('serving — press Ctrl-C to stop');
        await untilStopped();
      }
      return simulation.ok > 0 ? 0 : 1;
    } finally {
      log('stopping the local environment');
      await stopEnvironment(runtime);
    }
  },
});
