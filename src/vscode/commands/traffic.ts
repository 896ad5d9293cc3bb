/** Traffic commands: Simulate Traffic and Set Traffic Split. */
import * as vscode from 'vscode';
import type { Experiment } from '../../core/spec/experiment';
import { routerAnswersAt, simulateTraffic } from '../../operations/simulate';
import { splitTraffic } from '../../operations/split';
import { count } from '../../shared/format';
import { WeightsError, formatSplit, parseSplit, resolveWeights } from '../../shared/weights';
import { defaultTrafficFile, loadDataset } from '../../simulator/dataset';
import { endpointNeedsCredentials, KubeEnvironmentRuntime, portForwardCommand } from '../kubeEnvironment';
import { pickExperiment, showFailure, type CommandContext } from './context';
import { longRunning } from './longRunning';

export async function simulateTrafficCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const requests = await vscode.window.showQuickPick(['1000', '3000', '10000'], {
    title: `Simulate traffic for ${experiment.metadata.name}: how many requests?`,
  });
  if (!requests) return;
  const features = experiment.spec.drift ? await driftChoice(experiment) : [];
  if (features === undefined) return;
  const protocol = await protocolChoice(ctx);
  if (protocol === undefined) return;
  // A runtime that can connect (a port-forward to the router on remote clusters) needs no question.
  const runtime = ctx.environments.runtime();
  const routerUrl = runtime.connect ? '' : await simulationTarget(ctx);
  if (routerUrl === undefined) return;
  const summary = await longRunning(
    ctx,
    `Model Canary: simulating ${requests} requests`,
    (signal, report) => {
      let last = 0;
      return simulateTraffic(
        runtime,
        {
          experiment,
          requests: Number(requests),
          drift: features,
          routerUrl: routerUrl || undefined,
          protocol,
        },
        {
          signal,
          onProgress: report,
          onRequests: (done, total) => {
            const pct = Math.floor((100 * done) / total);
            if (pct >= last + 5) {
              last = pct;
              report(`${count(done)} of ${count(total)} requests`);
            }
          },
        },
      );
    },
    () => simulateTrafficCommand(ctx, experiment.metadata.name),
  );
  if (!summary) return;
  const byVariant = Object.entries(summary.byVariant)
    .map(([v, t]) => `${v} ${t.requests}`)
    .join(', ');
  const message = `Model Canary: simulated ${summary.sent} requests (${byVariant}), ${summary.errors} errors, ${summary.feedbackSent} feedback events${summary.labelsSent !== undefined ? `, ${summary.labelsSent} labels` : ''}.`;
  const choice = await (summary.errors > 0
    ? vscode.window.showWarningMessage(
        `${message} First error: ${summary.firstError}`,
        'Open Dashboard',
        'Open Logs',
      )
    : vscode.window.showInformationMessage(message, 'Open Dashboard'));
  if (choice === 'Open Dashboard')
    void vscode.commands.executeCommand('modelCanary.openDashboard', experiment.metadata.name);
  if (choice === 'Open Logs') ctx.log.show(true);
}

/** Over HTTP, or the router's gRPC port when it has one (undefined: the user cancelled). */
async function protocolChoice(ctx: CommandContext): Promise<'http' | 'grpc' | undefined> {
  if (!ctx.live.current.status?.routerGrpc) return 'http';
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'HTTP', description: 'V2 JSON to the router’s HTTP port', protocol: 'http' as const },
      {
        label: 'gRPC',
        description: `the Open Inference Protocol on ${ctx.live.current.status.routerGrpc}`,
        protocol: 'grpc' as const,
      },
    ],
    { title: 'Send the requests over which protocol? (feedback goes over HTTP)' },
  );
  return picked?.protocol;
}

/**
 * Where the simulator sends its requests when the runtime cannot connect by itself: the
 * runtime's endpoint, unless that is the API server's service proxy (a remote context), which
 * needs the kubeconfig's credentials that a plain HTTP client does not carry. Then the router
 * must be port-forwarded to this machine by hand; the user is told how, and the forwarded port is
 * checked before any request goes out.
 */
async function simulationTarget(ctx: CommandContext): Promise<string | undefined> {
  const runtime = ctx.environments.runtime();
  const endpoint = await runtime.endpoint();
  if (
    !(runtime instanceof KubeEnvironmentRuntime) ||
    !endpointNeedsCredentials(endpoint, runtime.target.server)
  )
    return endpoint;
  const port = ctx.config.settings.routerPort;
  const command = portForwardCommand(runtime.target, port);
  const local = `http://127.0.0.1:${port}`;
  const use = `Use ${local}`;
  const choice = await vscode.window.showWarningMessage(
    `Simulate Traffic sends thousands of requests straight to the router. On ${runtime.target.context} the router is reachable only through the API server, which needs your kubeconfig's credentials. Forward it to this machine first, in a terminal: ${command} — then choose "${use}".`,
    { modal: true },
    use,
    'Copy Command',
  );
  if (choice === 'Copy Command') {
    await vscode.env.clipboard.writeText(command);
    void vscode.window.showInformationMessage(
      `Model Canary: copied "${command}". Run it in a terminal, then Simulate Traffic again.`,
    );
    return undefined;
  }
  if (choice !== use) return undefined;
  if (!(await routerAnswersAt(local))) {
    void showFailure(
      ctx,
      `nothing answers at ${local}/v2/health/live — start the port-forward first: ${command}`,
      () => simulationTarget(ctx),
    );
    return undefined;
  }
  return local;
}

// Optional drift injection, halfway through, on one feature.
async function driftChoice(experiment: Experiment): Promise<string[] | undefined> {
  const data = await loadDataset(defaultTrafficFile(experiment)).catch(() => undefined);
  const numeric = data
    ? data.columns.filter((c) => typeof data.rows[0]?.[c] === 'number' && !/^(converted|label|id)$/.test(c))
    : [];
  const picks = [
    { label: 'No drift', spec: undefined as string | undefined },
    ...numeric.map((c) => ({ label: `Shift ${c} from halfway`, description: `${c}=shift:+50%`, spec: c })),
  ];
  const picked = await vscode.window.showQuickPick(picks, { title: 'Inject drift?' });
  if (!picked) return undefined;
  if (!picked.spec || !data) return [];
  const values = data.rows.map((r) => r[picked.spec!]).filter((v): v is number => typeof v === 'number');
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return [`${picked.spec}=shift:+${Math.max(1, Math.round(mean * 0.5))}`];
}

export async function setTrafficSplitCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const report = ctx.live.current.reports.get(experiment.metadata.name);
  const current = report
    ? report.variants.map((v) => `${v.name}=${v.weight}`).join(' ')
    : experiment.spec.variants.map((v) => `${v.name}=${v.weight}`).join(' ');
  const names = experiment.spec.variants.map((v) => v.name);
  const input = await vscode.window.showInputBox({
    title: `Traffic split of ${experiment.metadata.name}`,
    prompt: 'variant=weight pairs, e.g. v1=75 v2=25 (variants left out keep their weight)',
    value: current,
    validateInput: (text) => splitProblem(text, names),
  });
  if (!input) return;
  await applySplit(ctx, experiment.metadata.name, parseSplit(input), 'split');
}

/** What is wrong with a split typed in the input box, by the rule of shared/weights.ts; undefined when fine. */
export function splitProblem(text: string, names: string[]): string | undefined {
  try {
    const weights = parseSplit(text);
    resolveWeights(
      'the experiment',
      names.map((name) => ({ name, weight: 0 })),
      weights,
    );
    return undefined;
  } catch (err) {
    // A partial split adds to weights the input box cannot see; the router decides the sum then.
    if (err instanceof WeightsError && /add up/.test(err.message)) return undefined;
    return (err as Error).message;
  }
}

/** Sets a split through the operation; a refusal becomes a notification. */
export async function applySplit(
  ctx: CommandContext,
  experiment: string,
  weights: Record<string, number>,
  what: string,
): Promise<Record<string, number> | undefined> {
  try {
    const result = await splitTraffic(ctx.environments.runtime(), { experiment, weights });
    ctx.log.info(`${what} ${experiment}: ${formatSplit(result.weights)}`);
    return result.weights;
  } catch (err) {
    void showFailure(ctx, (err as Error).message, () => applySplit(ctx, experiment, weights, what));
    return undefined;
  } finally {
    void ctx.live.refresh();
  }
}
