/** Commands over the current environment's Runtime: start, stop, deploy, simulate, split, promote, roll back, logs. */
import * as vscode from 'vscode';
import { baselineOf, type Experiment } from '../../core/spec/experiment';
import { SpecError } from '../../core/spec/errors';
import { parseDriftSpec } from '../../simulator/driftInjection';
import { defaultTrafficFile, loadDataset } from '../../simulator/dataset';
import { simulate } from '../../simulator/simulator';
import { endpointNeedsCredentials, KubeEnvironmentRuntime, portForwardCommand } from '../kubeEnvironment';
import { isCancel, withCancellableProgress } from '../progress';
import { pickExperiment, showFailure, type CommandContext } from './context';

/** Runs long work under a cancellable progress; failures become notifications with actions, cancels stay silent. */
async function longRunning<T>(
  ctx: CommandContext,
  title: string,
  work: (signal: AbortSignal, report: (m: string) => void) => Promise<T>,
  retry: () => unknown,
): Promise<T | undefined> {
  try {
    return await withCancellableProgress(title, async (signal, report) =>
      work(signal, (m) => {
        ctx.log.info(m);
        report(m);
      }),
    );
  } catch (err) {
    if (isCancel(err)) {
      ctx.log.info(`${title}: canceled`);
      return undefined;
    }
    const message =
      err instanceof SpecError ? `the experiment has problems:\n${err.message}` : (err as Error).message;
    ctx.log.error(`${title}: ${message}`);
    void showFailure(ctx, message, retry);
    return undefined;
  } finally {
    void ctx.live.refresh();
  }
}

/** "the local environment" or "the environment on <context>", for titles and messages. */
function environmentName(ctx: CommandContext): string {
  const env = ctx.environments.current;
  return env.kind === 'local' ? 'the local environment' : `the environment on ${env.context}`;
}

/** Start Environment: the router of the selected environment (local processes or a kubeconfig context). */
export async function startLocal(ctx: CommandContext): Promise<void> {
  const name = environmentName(ctx);
  const status = await longRunning(
    ctx,
    `Model Canary: starting ${name}`,
    (signal, report) => ctx.environments.runtime().up({ signal, onProgress: report }),
    () => startLocal(ctx),
  );
  if (status?.up)
    void vscode.window.showInformationMessage(
      `Model Canary: ${name.replace(/^the /, '')} running — router at ${status.routerUrl}`,
    );
}

/** Stop Environment: everything the selected environment runs (on Kubernetes: the release's objects; the event log's volume stays). */
export async function stopLocal(ctx: CommandContext): Promise<void> {
  const name = environmentName(ctx);
  const done = await longRunning(
    ctx,
    `Model Canary: stopping ${name}`,
    async (signal, report) => {
      await ctx.environments.runtime().down({ signal, onProgress: report });
      return true;
    },
    () => stopLocal(ctx),
  );
  if (done) void vscode.window.showInformationMessage(`Model Canary: ${name.replace(/^the /, '')} stopped.`);
}

export async function deployExperiment(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg);
  if (!experiment) return;
  const status = await longRunning(
    ctx,
    `Model Canary: deploying ${experiment.metadata.name}`,
    async (signal, report) => {
      const runtime = ctx.environments.runtime();
      if (!(await runtime.status()).up) await runtime.up({ signal, onProgress: report });
      return runtime.deploy(experiment.file, { signal, onProgress: report });
    },
    () => deployExperiment(ctx, experiment.metadata.name),
  );
  if (!status) return;
  const choice = await vscode.window.showInformationMessage(
    `Model Canary: ${experiment.metadata.name} is live at ${status.routerUrl}/v2/models/${experiment.spec.endpoint}/infer`,
    'Simulate Traffic',
    'Open Dashboard',
  );
  if (choice === 'Simulate Traffic')
    void vscode.commands.executeCommand('modelCanary.simulateTraffic', experiment.metadata.name);
  if (choice === 'Open Dashboard')
    void vscode.commands.executeCommand('modelCanary.openDashboard', experiment.metadata.name);
}

export async function simulateTraffic(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const count = await vscode.window.showQuickPick(['1000', '3000', '10000'], {
    title: `Simulate traffic for ${experiment.metadata.name}: how many requests?`,
  });
  if (!count) return;
  const features = experiment.spec.drift ? await driftChoice(experiment) : [];
  if (features === undefined) return;
  // A runtime that can connect (a port-forward to the router on remote clusters) needs no question.
  const runtime = ctx.environments.runtime();
  const routerUrl = runtime.connect ? '' : await simulationTarget(ctx);
  if (routerUrl === undefined) return;
  const summary = await longRunning(
    ctx,
    `Model Canary: simulating ${count} requests`,
    async (signal, report) => {
      const file = defaultTrafficFile(experiment);
      const data = await loadDataset(file);
      if (runtime.connect) report(`connecting to the router on ${ctx.environments.label()}`);
      const connection = runtime.connect
        ? await runtime.connect({ signal })
        : { url: routerUrl, close: async () => undefined };
      report(`replaying ${vscode.workspace.asRelativePath(file)} against ${connection.url}`);
      let last = 0;
      try {
        return await simulate({
          routerUrl: connection.url,
          experiment: experiment.metadata.name,
          endpoint: experiment.spec.endpoint,
          stickyHeader: experiment.spec.routing?.sticky?.header,
          metric: experiment.spec.metrics.primary.name,
          data,
          requests: Number(count),
          rps: 200,
          drift: features,
          signal,
          onProgress: (done, total) => {
            const pct = Math.floor((100 * done) / total);
            if (pct >= last + 5) {
              last = pct;
              report(`${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} requests`);
            }
          },
        });
      } finally {
        await connection.close();
      }
    },
    () => simulateTraffic(ctx, experiment.metadata.name),
  );
  if (!summary) return;
  const byVariant = Object.entries(summary.byVariant)
    .map(([v, t]) => `${v} ${t.requests}`)
    .join(', ');
  const message = `Model Canary: simulated ${summary.sent} requests (${byVariant}), ${summary.errors} errors, ${summary.feedbackSent} feedback events.`;
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
  const live = await fetch(`${local}/v2/health/live`, { signal: AbortSignal.timeout(3_000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!live) {
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
async function driftChoice(experiment: Experiment): Promise<ReturnType<typeof parseDriftSpec>[] | undefined> {
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
  return [parseDriftSpec(`${picked.spec}=shift:+${Math.max(1, Math.round(mean * 0.5))}`)];
}

export async function setTrafficSplit(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const report = ctx.live.current.reports.get(experiment.metadata.name);
  const current = report
    ? report.variants.map((v) => `${v.name}=${v.weight}`).join(' ')
    : experiment.spec.variants.map((v) => `${v.name}=${v.weight}`).join(' ');
  const names = new Set(experiment.spec.variants.map((v) => v.name));
  const input = await vscode.window.showInputBox({
    title: `Traffic split of ${experiment.metadata.name}`,
    prompt: 'variant=weight pairs, e.g. v1=75 v2=25',
    value: current,
    validateInput: (text) => validateSplit(text, names).error,
  });
  if (!input) return;
  const { weights } = validateSplit(input, names);
  await applyWeights(ctx, experiment, weights!, 'split');
}

/** Parses `v1=75 v2=25`; says what is wrong otherwise. */
export function validateSplit(
  text: string,
  names: Set<string>,
): { weights?: Record<string, number>; error?: string } {
  const weights: Record<string, number> = {};
  for (const pair of text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)) {
    const [name, w] = pair.split('=');
    const weight = Number(w);
    if (!name || !names.has(name))
      return { error: `unknown variant "${name ?? pair}" (variants: ${[...names].join(', ')})` };
    if (w === undefined || !Number.isFinite(weight) || weight < 0)
      return { error: `"${pair}": the weight must be a number ≥ 0` };
    weights[name] = weight;
  }
  if (Object.values(weights).reduce((a, b) => a + b, 0) <= 0)
    return { error: 'the weights must add up to something positive' };
  return { weights };
}

export async function applyWeights(
  ctx: CommandContext,
  experiment: Experiment,
  weights: Record<string, number>,
  what: string,
): Promise<boolean> {
  try {
    await ctx.environments.runtime().setWeights(experiment.metadata.name, weights);
    ctx.log.info(`${what} ${experiment.metadata.name}: ${JSON.stringify(weights)}`);
    void ctx.live.refresh();
    return true;
  } catch (err) {
    void showFailure(ctx, (err as Error).message, () => applyWeights(ctx, experiment, weights, what));
    return false;
  }
}

export async function rollBack(ctx: CommandContext, arg?: unknown, confirmed = false): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const baseline = baselineOf(experiment).name;
  if (!confirmed) {
    const ok = await vscode.window.showWarningMessage(
      `Roll back ${experiment.metadata.name}: send all traffic to the baseline ${baseline}?`,
      { modal: true },
      'Roll Back',
    );
    if (ok !== 'Roll Back') return;
  }
  const weights = Object.fromEntries(
    experiment.spec.variants.map((v) => [v.name, v.name === baseline ? 100 : 0]),
  );
  if (await applyWeights(ctx, experiment, weights, 'roll back'))
    void vscode.window.showInformationMessage(
      `Model Canary: ${experiment.metadata.name} rolled back — ${baseline} serves 100%.`,
    );
}

/** Seconds each promotion step runs before the next, so guardrails can speak. */
export const PROMOTION_STEP_SECONDS = 10;

/** The candidate becomes the new baseline in steps (the experiment's rollout steps), stopping at a breached guardrail. */
export async function promoteCandidate(
  ctx: CommandContext,
  arg?: unknown,
  preselected?: { variant: string; confirmed: boolean },
): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const candidates = experiment.spec.variants.filter((v) => v.role === 'candidate').map((v) => v.name);
  const node = arg as { kind?: string; variant?: { name: string } } | undefined;
  const candidate =
    preselected && candidates.includes(preselected.variant)
      ? preselected.variant
      : node?.kind === 'variant' && node.variant && candidates.includes(node.variant.name)
        ? node.variant.name
        : candidates.length === 1
          ? candidates[0]
          : await vscode.window.showQuickPick(candidates, { title: 'Promote which candidate?' });
  if (!candidate) return;
  const baseline = baselineOf(experiment).name;
  const steps = (experiment.spec.rollout?.steps ?? [5, 25, 50, 100]).filter((s) => s > 0);
  if (!preselected?.confirmed) {
    const ok = await vscode.window.showWarningMessage(
      `Promote ${candidate} in ${experiment.metadata.name}: ${steps.join('% → ')}% of traffic, ${PROMOTION_STEP_SECONDS} s per step; a breached guardrail stops it and rolls back.`,
      { modal: true },
      'Promote',
    );
    if (ok !== 'Promote') return;
  }
  const outcome = await longRunning(
    ctx,
    `Model Canary: promoting ${candidate}`,
    async (signal, report) => {
      const runtime = ctx.environments.runtime();
      for (const step of steps) {
        const weights = Object.fromEntries(
          experiment.spec.variants.map((v) => [
            v.name,
            v.name === candidate ? step : v.name === baseline ? 100 - step : 0,
          ]),
        );
        await runtime.setWeights(experiment.metadata.name, weights);
        report(`${candidate} at ${step}%`);
        if (step === 100) break;
        await sleep(PROMOTION_STEP_SECONDS * 1000, signal);
        const comparison = (await runtime.report(experiment.metadata.name)).comparisons.find(
          (c) => c.variant === candidate,
        );
        if (comparison?.decision === 'rollback') {
          await runtime.setWeights(
            experiment.metadata.name,
            Object.fromEntries(experiment.spec.variants.map((v) => [v.name, v.name === baseline ? 100 : 0])),
          );
          return `stopped at ${step}% and rolled back: ${comparison.reason}`;
        }
      }
      return `${candidate} serves 100% of ${experiment.metadata.name}`;
    },
    () => promoteCandidate(ctx, experiment.metadata.name),
  );
  if (outcome) void vscode.window.showInformationMessage(`Model Canary: ${outcome}.`);
}

export async function showLogs(ctx: CommandContext): Promise<void> {
  const status = ctx.live.current.status;
  const components = status?.up ? status.components : [];
  const picks = [
    { label: 'Model Canary output', description: 'extension log', file: undefined as string | undefined },
    ...components.map((c) => ({ label: c.name, description: `${c.kind} · ${c.state}`, file: c.logFile })),
  ];
  const picked = components.length
    ? await vscode.window.showQuickPick(picks, { title: 'Show which log?' })
    : picks[0];
  if (!picked) return;
  if (picked.label === picks[0]!.label) return ctx.log.show();
  // Local components write log files; on Kubernetes the runtime fetches the Pod's log into one.
  const file =
    picked.file ??
    (await longRunning(
      ctx,
      `Model Canary: fetching the log of ${picked.label}`,
      () => ctx.environments.runtime().logFile(picked.label),
      () => showLogs(ctx),
    ));
  if (!file) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  const end = new vscode.Position(doc.lineCount, 0);
  editor.revealRange(new vscode.Range(end, end));
}

export async function selectEnvironment(ctx: CommandContext): Promise<void> {
  const settings = ctx.config.settings;
  let contexts: string[] = [];
  try {
    const { loadKube } = await import('../kubeLoader');
    const kube = loadKube();
    contexts = kube.listContexts(kube.loadKubeConfig()).map((c) => c.name);
  } catch (err) {
    ctx.log.warn(`kubeconfig: ${(err as Error).message}`);
  }
  const current = ctx.environments.label();
  const kindContext = `kind-${settings.clusterName}`;
  const picks = [
    {
      label: 'local processes',
      description: 'MLServer and the router on 127.0.0.1, no Docker',
      id: { kind: 'local' as const },
    },
    ...[kindContext, ...contexts.filter((c) => c !== kindContext)].map((c) => ({
      label: c,
      description: c === kindContext ? 'local kind cluster' : 'kubeconfig context',
      id: { kind: 'context' as const, context: c },
    })),
  ].map((p) => ({ ...p, label: p.label === current ? `$(check) ${p.label}` : p.label }));
  const picked = await vscode.window.showQuickPick(picks, { title: 'Run experiments on…' });
  if (picked) await ctx.environments.select(picked.id);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DOMException('canceled', 'AbortError'));
    });
  });
}

/** Start, pause, resume, approve or abort the router's progressive rollout of an experiment. */
export async function rolloutAction(
  ctx: CommandContext,
  action: 'start' | 'pause' | 'resume' | 'approve' | 'abort',
  arg?: unknown,
): Promise<void> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return;
  const runtime = ctx.environments.runtime();
  if (!runtime.rollout) {
    void showFailure(
      ctx,
      `automatic rollouts are not available on ${ctx.environments.label()} yet — use local processes`,
    );
    return;
  }
  let candidate: string | undefined;
  if (action === 'start') {
    const candidates = experiment.spec.variants.filter((v) => v.role === 'candidate').map((v) => v.name);
    candidate =
      candidates.length === 1
        ? candidates[0]
        : await vscode.window.showQuickPick(candidates, { title: 'Roll out which candidate?' });
    if (!candidate) return;
    const steps = experiment.spec.rollout?.steps ?? [5, 25, 50, 100];
    const ok = await vscode.window.showWarningMessage(
      `Start an automatic rollout of ${candidate} in ${experiment.metadata.name} (${steps.join('% → ')}%)? The router moves the weights by itself, gated on guardrails, SRM, drift and the always-valid test.`,
      { modal: true },
      'Start Rollout',
    );
    if (ok !== 'Start Rollout') return;
  }
  if (action === 'abort') {
    const ok = await vscode.window.showWarningMessage(
      `Abort the rollout of ${experiment.metadata.name} and send all traffic back to the baseline?`,
      { modal: true },
      'Abort',
    );
    if (ok !== 'Abort') return;
  }
  try {
    const status = await runtime.rollout(experiment.metadata.name, action, { candidate });
    void ctx.live.refresh();
    void vscode.window
      .showInformationMessage(
        `Model Canary: rollout of ${experiment.metadata.name} is ${status.state} — ${status.reason}`,
        'Open Dashboard',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand('modelCanary.openDashboard', experiment.metadata.name);
      });
  } catch (err) {
    void showFailure(ctx, (err as Error).message);
  }
}
