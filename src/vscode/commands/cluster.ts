/** Commands for Kubernetes: the local kind cluster, promotion to a context (diff first), export for GitOps. */
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { EXPORT_DOCS, EXPORT_TARGETS, SERVING_TARGETS, type ExportTarget } from '../../manifests/export';
import type { Preview } from '../../kube/preview';
import { createCluster, deleteCluster } from '../../operations/cluster';
import { exportManifests, LossyExportRefused } from '../../operations/exportManifests';
import { readRouterBundle as readRouterBundleFiles } from '../../runtime/routerBundle';
import { ROUTER_SCRIPT_FILE, type RouterBundle } from '../../shared/routerFiles';
import { loadKube } from '../kubeLoader';
import { isCancel, withCancellableProgress } from '../progress';
import { pickExperiment, showFailure, type CommandContext } from './context';

export async function createKindClusterCommand(ctx: CommandContext): Promise<void> {
  const s = ctx.config.settings;
  try {
    const created = await withCancellableProgress(
      `Model Canary: creating kind cluster "${s.clusterName}"`,
      (signal, report) =>
        createCluster(
          {
            kindPath: s.kindPath,
            name: s.clusterName,
            workspace: ctx.environments.workspaceRoot(),
            hostPort: s.routerPort,
            image: s.kindNodeImage || undefined,
          },
          {
            signal,
            onProgress: (m) => {
              ctx.log.info(m);
              report(m);
            },
          },
        ),
    );
    ctx.environmentsTree.refresh();
    const choice = await vscode.window.showInformationMessage(
      `Model Canary: kind cluster ready — context ${created.context}.`,
      'Select It',
    );
    if (choice === 'Select It') await ctx.environments.select({ kind: 'context', context: created.context });
  } catch (err) {
    if (isCancel(err)) return;
    ctx.log.error(`create kind cluster: ${(err as Error).message}`);
    void showFailure(ctx, (err as Error).message, () => createKindClusterCommand(ctx));
  }
}

export async function deleteKindClusterCommand(ctx: CommandContext): Promise<void> {
  const s = ctx.config.settings;
  const ok = await vscode.window.showWarningMessage(
    `Delete the kind cluster "${s.clusterName}" and everything in it?`,
    { modal: true },
    'Delete',
  );
  if (ok !== 'Delete') return;
  try {
    await withCancellableProgress(
      `Model Canary: deleting kind cluster "${s.clusterName}"`,
      (signal, report) =>
        deleteCluster({ kindPath: s.kindPath, name: s.clusterName }, { signal, onProgress: report }),
    );
    if (ctx.environments.label() === `kind-${s.clusterName}`)
      await ctx.environments.select({ kind: 'local' });
    ctx.environmentsTree.refresh();
    void vscode.window.showInformationMessage(`Model Canary: kind cluster "${s.clusterName}" deleted.`);
  } catch (err) {
    if (isCancel(err)) return;
    void showFailure(ctx, (err as Error).message, () => deleteKindClusterCommand(ctx));
  }
}

export async function exportManifestsCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg);
  if (!experiment) return;
  const picked = await vscode.window.showQuickPick(
    EXPORT_TARGETS.map((t) => ({ label: t, detail: EXPORT_DOCS[t].replace(/\n/g, ' '), target: t })),
    { title: `Export ${experiment.metadata.name} as…`, matchOnDetail: true },
  );
  if (!picked) return;
  const target: ExportTarget = picked.target;
  let modelUriBase: string | undefined;
  // Monitoring targets (Prometheus rules, a Grafana dashboard) serve no model.
  if (SERVING_TARGETS.includes(target)) {
    modelUriBase = await vscode.window.showInputBox({
      title: 'Where are the model folders published?',
      prompt:
        target === 'builtin'
          ? 'HTTP(S) URL under which each model folder is published; leave empty for the kind node mount'
          : 'URI under which each model folder (model-settings.json and its artifact) lives, e.g. gs://bucket/models',
      validateInput: (v) =>
        (target === 'builtin' && v === '') || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(v)
          ? undefined
          : 'a URI such as gs://bucket/models or https://host/models',
    });
    if (modelUriBase === undefined || (target !== 'builtin' && !modelUriBase)) return;
    modelUriBase ||= undefined;
  }
  const folder = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Export Here',
    defaultUri: vscode.Uri.file(dirname(experiment.file)),
  });
  const out = folder?.[0]?.fsPath;
  if (!out) return;
  try {
    const input = {
      workspace: workspaceOf(ctx, experiment.file),
      experiment: experiment.file,
      target,
      out,
      modelUriBase,
      routerBundle: target === 'builtin' ? await readRouterBundle(ctx) : undefined,
      mlserverImage: ctx.config.settings.modelServerImage || undefined,
    };
    const result = await exportManifests(input).catch(async (err: unknown) => {
      if (!(err instanceof LossyExportRefused)) throw err;
      const anyway = await vscode.window.showWarningMessage(
        `${target} cannot carry ${err.dropped.join(' and ')} of ${experiment.metadata.name}. Export without them?`,
        { modal: true },
        'Export Anyway',
      );
      return anyway === 'Export Anyway' ? exportManifests({ ...input, allowLossy: true }) : undefined;
    });
    if (!result) return;
    if (result.notes.length) ctx.log.info(`export ${target}: ${result.notes.join('; ')}`);
    const first = result.files[0];
    const choice = await vscode.window.showInformationMessage(
      `Model Canary: wrote ${result.files.length} file(s) to ${out}.`,
      'Open',
    );
    if (choice === 'Open' && first) await vscode.window.showTextDocument(vscode.Uri.file(first));
  } catch (err) {
    void showFailure(ctx, (err as Error).message);
  }
}

/** The workspace folder an experiment file belongs to. */
function workspaceOf(ctx: CommandContext, file: string): string {
  return ctx.workspace.current.find((s) => s.experiments.some((e) => e.file === file))?.root ?? dirname(file);
}

/** Where a promotion comes from, as `modelcanary.dev/promoted-from` records it (the CLI's form). */
function source(ctx: CommandContext): string {
  const env = ctx.environments.current;
  return env.kind === 'local'
    ? `local:${ctx.environments.workspaceRoot()}`
    : `${env.context}/${ctx.config.settings.kubeNamespace}`;
}

/** Promote to Cluster…: dry-run diff in VS Code's diff editor, explicit confirmation, apply, wait. */
export async function promoteToClusterCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const experiment = await pickExperiment(ctx, arg);
  if (!experiment) return;
  let kube: ReturnType<typeof loadKube>;
  let contexts: string[];
  try {
    kube = loadKube();
    const kc = kube.loadKubeConfig();
    contexts = kube
      .listContexts(kc)
      .map((c) => c.name)
      .filter((c) => !kube.isKindContext(kc, c));
  } catch (err) {
    void showFailure(ctx, `cannot read the kubeconfig: ${(err as Error).message}`);
    return;
  }
  if (contexts.length === 0) {
    void vscode.window.showWarningMessage(
      'Model Canary: no remote context in your kubeconfig (kind contexts are not promotion targets).',
    );
    return;
  }
  const context = await vscode.window.showQuickPick(contexts, {
    title: `Promote ${experiment.metadata.name} to…`,
  });
  if (!context) return;
  const plan = await vscode.window.showQuickPick(
    [
      { label: 'canary', description: 'every candidate at 5% on the target', plan: 'canary' as const },
      {
        label: 'as-is',
        description: 'the live weights of the selected environment (else the file’s)',
        plan: 'as-is' as const,
      },
    ],
    { title: 'Which weights on the target?' },
  );
  if (!plan) return;
  const modelUriBase = await vscode.window.showInputBox({
    title: 'Where does the target cluster fetch the models from?',
    prompt: 'HTTP(S) URL under which each model folder is published (the cluster cannot see your workspace)',
    value: ctx.config.settings.kubeModelUriBase,
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^https?:\/\/\S+$/.test(v)
        ? undefined
        : 'an http(s) URL, e.g. https://storage.googleapis.com/bucket/models',
  });
  if (!modelUriBase) return;
  const protectedPattern = new RegExp(ctx.config.settings.protectedContextPattern || 'prod', 'i');
  try {
    const result = await withCancellableProgress(
      `Model Canary: promoting ${experiment.metadata.name} to ${context}`,
      async (signal, report) => {
        return kube.promoteToContext(
          {
            workspace: workspaceOf(ctx, experiment.file),
            experiment: experiment.file,
            context,
            namespace: ctx.config.settings.kubeNamespace,
            plan: plan.plan,
            // The same form as the CLI's: the selected environment it comes from.
            source: source(ctx),
            modelUriBase,
            routerBundle: await readRouterBundle(ctx),
            mlserverImage: ctx.config.settings.modelServerImage || undefined,
            undoFile: join(
              ctx.environments.workspaceRoot(),
              '.model-canary',
              'promotions',
              `${context}-${experiment.metadata.name}-${Date.now()}.before.yaml`,
            ),
            protectedPattern,
            localEnvironment: ctx.environments.runtime(),
          },
          {
            signal,
            onProgress: (m) => {
              ctx.log.info(m);
              report(m);
            },
            onPreview: (preview) => showPreviewDiff(preview),
            confirm: async (q) => {
              if (q.kind === 'type-context') {
                const typed = await vscode.window.showInputBox({
                  title: q.message,
                  prompt: `Type ${q.expect} to apply the diff shown`,
                  ignoreFocusOut: true,
                });
                return typed ?? false;
              }
              return (
                (await vscode.window.showWarningMessage(q.message, { modal: true }, 'Apply')) === 'Apply'
              );
            },
          },
        );
      },
    );
    if (result.status === 'failed') {
      ctx.log.error(`promotion failed: ${result.error}\n${result.undo ?? ''}`);
      void showFailure(
        ctx,
        `promotion to ${context} failed part-way: ${result.error} — see the logs for what was applied and how to undo it`,
      );
    } else {
      void vscode.window.showInformationMessage(`Model Canary: promotion to ${context}: ${result.status}.`);
    }
  } catch (err) {
    if (isCancel(err)) return;
    void showFailure(ctx, (err as Error).message);
  }
}

// dist/router.js and the dashboard's assets beside it, all in the installed extension.
function readRouterBundle(ctx: CommandContext): Promise<RouterBundle> {
  return readRouterBundleFiles(join(ctx.extension.extensionUri.fsPath, 'dist', ROUTER_SCRIPT_FILE));
}

const PREVIEW_SCHEME = 'model-canary-preview';
const previewDocs = new Map<string, string>();
let providerRegistered = false;

// The dry-run diff in VS Code's own diff editor: live objects left, planned objects right.
async function showPreviewDiff(preview: Preview): Promise<void> {
  if (!providerRegistered) {
    providerRegistered = true;
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
      provideTextDocumentContent: (uri) => previewDocs.get(uri.path) ?? '',
    });
  }
  const kube = loadKube();
  const stamp = Date.now();
  const side = (pick: 'live' | 'planned'): string =>
    preview.changes.map((c) => `# ${c.ref} (${c.action})\n${kube.diffText(c[pick])}`).join('---\n');
  previewDocs.set(`/live-${stamp}.yaml`, side('live'));
  previewDocs.set(`/planned-${stamp}.yaml`, side('planned'));
  await vscode.commands.executeCommand(
    'vscode.diff',
    vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/live-${stamp}.yaml` }),
    vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/planned-${stamp}.yaml` }),
    `Promotion to ${preview.context}: live ↔ planned (${preview.changes.filter((c) => c.action !== 'unchanged').length} change(s))`,
  );
}
