/** Commands over the selected environment: start, stop, deploy, show logs, select. */
import * as vscode from 'vscode';
import { deployExperiment } from '../../operations/deploy';
import { stopEnvironment } from '../../operations/down';
import { componentLog } from '../../operations/logs';
import { startEnvironment } from '../../operations/up';
import { pickExperiment, type CommandContext } from './context';
import { environmentName, longRunning } from './longRunning';

/** Start Environment: the router of the selected environment (local processes or a kubeconfig context). */
export async function startEnvironmentCommand(ctx: CommandContext): Promise<void> {
  const name = environmentName(ctx);
  const status = await longRunning(
    ctx,
    `Model Canary: starting ${name}`,
    (signal, report) => startEnvironment(ctx.environments.runtime(), { signal, onProgress: report }),
    () => startEnvironmentCommand(ctx),
  );
  if (status?.up)
    void vscode.window.showInformationMessage(
      `Model Canary: ${name.replace(/^the /, '')} running — router at ${status.routerUrl}`,
    );
}

/** Stop Environment: everything the selected environment runs (on Kubernetes: the release's objects; the event log's volume stays). */
export async function stopEnvironmentCommand(ctx: CommandContext): Promise<void> {
  const name = environmentName(ctx);
  const done = await longRunning(
    ctx,
    `Model Canary: stopping ${name}`,
    async (signal, report) => {
      await stopEnvironment(ctx.environments.runtime(), { signal, onProgress: report });
      return true;
    },
    () => stopEnvironmentCommand(ctx),
  );
  if (done) void vscode.window.showInformationMessage(`Model Canary: ${name.replace(/^the /, '')} stopped.`);
}

export async function deployExperimentCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg);
  if (!experiment) return;
  const result = await longRunning(
    ctx,
    `Model Canary: deploying ${experiment.metadata.name}`,
    (signal, report) =>
      deployExperiment(
        ctx.environments.runtime(),
        { experimentFile: experiment.file },
        { signal, onProgress: report },
      ),
    () => deployExperimentCommand(ctx, experiment.metadata.name),
  );
  if (!result) return;
  const choice = await vscode.window.showInformationMessage(
    `Model Canary: ${result.experiment} is live at ${result.inferUrl}`,
    'Simulate Traffic',
    'Open Dashboard',
  );
  if (choice === 'Simulate Traffic')
    void vscode.commands.executeCommand('modelCanary.simulateTraffic', experiment.metadata.name);
  if (choice === 'Open Dashboard')
    void vscode.commands.executeCommand('modelCanary.openDashboard', experiment.metadata.name);
}

export async function showLogsCommand(ctx: CommandContext): Promise<void> {
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
      async () => (await componentLog(ctx.environments.runtime(), { component: picked.label })).file,
      () => showLogsCommand(ctx),
    ));
  if (!file) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  const end = new vscode.Position(doc.lineCount, 0);
  editor.revealRange(new vscode.Range(end, end));
}

export async function selectEnvironmentCommand(ctx: CommandContext): Promise<void> {
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
