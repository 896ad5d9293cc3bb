/** Kubernetes commands: cluster create|delete|status (the local kind cluster), promote (to a context), export. */
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { DEFAULT_CLUSTER_NAME } from '../kind/cluster';
import { DEFAULT_NODE_IMAGE } from '../kind/commands';
import { KindError } from '../kind/client';
import type { ConfirmQuestion, PromotionPlan } from '../kube/promote';
import { summarizePreview } from '../kube/preview';
import { EXPORT_DOCS, EXPORT_TARGETS, type ExportTarget } from '../manifests/export';
import { clusterStatus, createCluster, deleteCluster } from '../operations/cluster';
import { exportManifests } from '../operations/exportManifests';
import { promoteToContext } from '../operations/promoteToContext';
import { RouterBundleMissing, readRouterBundle } from '../runtime/routerBundle';
import type { RouterBundle } from '../shared/routerFiles';
import {
  UsageError,
  jsonOption,
  onInterrupt,
  portFlag,
  progress,
  workspaceOf,
  type CliContext,
  type Command,
} from './command';
import { kubeRuntime, localRuntime } from './environment';
import { colorDiff } from './render';
import { promotionText } from './promotionText';

async function routerBundle(ctx: CliContext, image: unknown): Promise<RouterBundle | undefined> {
  if (image) return undefined;
  try {
    return await readRouterBundle(ctx.routerScript);
  } catch (err) {
    throw err instanceof RouterBundleMissing ? new UsageError(err.message) : err;
  }
}

/** Asks on the terminal (or reads a line piped in); an empty input declines. */
async function askOnTerminal(q: ConfirmQuestion): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: !!process.stdin.isTTY,
  });
  try {
    return await Promise.race([
      rl.question(`${q.message} `),
      new Promise<string>((r) => rl.once('close', () => r(''))),
    ]);
  } finally {
    rl.close();
  }
}

const CLUSTER_HELP = `Subcommands:
  create   check Docker, kind and the port, then create the cluster: the workspace mounted at /models
           in the node, the router's NodePort 30090 on 127.0.0.1:<port>, node image pinned by digest
           (${DEFAULT_NODE_IMAGE}; --image to override)
  delete   delete the cluster (its context kind-<name> goes with it)
  status   whether the cluster exists, and the Model Canary stack in it`;

const clusterCommand = (ctx: CliContext): Command => ({
  summary: 'create, delete or inspect the local kind cluster (needs Docker)',
  usage:
    'model-canary cluster create|delete|status [--name model-canary] [--workspace DIR] [--port 8090] [--image IMAGE] [--kind PATH] [--json]',
  help: CLUSTER_HELP,
  options: {
    name: { type: 'string', default: DEFAULT_CLUSTER_NAME },
    workspace: { type: 'string', default: '.' },
    port: { type: 'string', default: '8090' },
    image: { type: 'string' },
    kind: { type: 'string' },
    namespace: { type: 'string' },
    ...jsonOption,
  },
  twin: { palette: ['createKindCluster', 'deleteKindCluster'], inputs: { action: '<positional>' } },
  async run(v, [sub]) {
    const abort = onInterrupt();
    const input = { name: v.name as string, kindPath: v.kind as string | undefined };
    const options = { signal: abort.signal, onProgress: progress(!!v.json) };
    try {
      if (sub === 'create') {
        const created = await createCluster(
          {
            ...input,
            workspace: workspaceOf(v),
            hostPort: portFlag(v.port),
            image: v.image as string | undefined,
          },
          options,
        );
        if (v.json)
          console.log(
            JSON.stringify({ name: created.name, context: created.context, image: created.image }, null, 2),
          );
        else
          console.log(
            `kind cluster "${created.name}" created — context ${created.context}\nnext: model-canary up --runtime kube --context ${created.context} --port ${String(v.port)}`,
          );
        return 0;
      }
      if (sub === 'delete') {
        await deleteCluster(input, options);
        if (!v.json) console.log(`kind cluster "${input.name}" deleted`);
        return 0;
      }
      if (sub === 'status') {
        const status = await clusterStatus(
          input,
          (context) => kubeRuntime(ctx, { ...v, context }).status(),
          options,
        );
        if (v.json) console.log(JSON.stringify(status, null, 2));
        else {
          console.log(
            `kind cluster "${status.name}": ${status.exists ? `exists (context ${status.context})` : 'not created'}`,
          );
          if (status.stack) {
            console.log(
              `  router: ${status.stack.up ? status.stack.routerUrl : 'not deployed (model-canary up --runtime kube)'}`,
            );
            for (const c of status.stack.components)
              console.log(
                `  ${c.state === 'ready' ? '✔' : '✖'} ${c.name.padEnd(20)} ${c.state}${c.detail ? `  (${c.detail})` : ''}`,
              );
          }
        }
        return status.exists ? 0 : 1;
      }
      throw new UsageError('which subcommand: create, delete or status?');
    } catch (err) {
      if (err instanceof KindError) {
        console.error(err.message);
        return 1;
      }
      throw err;
    }
  },
});

const PROMOTE_HELP = `Builds the experiment's objects for the target context, dry-runs them on its API server
(server-side apply, dryRun=All), prints the unified diff against the live objects, asks for
confirmation, applies, waits for the rollouts and records a modelcanary.dev/promoted-from
annotation and an Event.

  --plan canary     every candidate at 5% on the target, the baseline the rest (default)
  --plan as-is      the live weights: of --from CONTEXT[/NAMESPACE], else of the local environment
                    (processes, then the kind cluster) running it, else the file's
  --namespace       the target namespace (default model-canary)
  --dry-run         print the diff only
  --yes             skip the question — not on protected contexts (--protected, default "prod"),
                    where you type the context's name
  --allow-kind      allow a kind-* context as the target (refused by default)
  --model-uri-base  HTTP(S) URL under which each model folder is published (the target fetches
                    model-settings.json and the artifact from <base>/<folder>/)
  --force           take over fields other field managers own
A failure part-way prints what was applied and how to undo it.`;

const promoteCommand = (ctx: CliContext): Command => ({
  summary: 'promote an experiment to a cluster context: server-side dry-run diff, confirm, apply, wait',
  usage:
    'model-canary promote <experiment> --context CTX [--namespace NS] [--plan canary|as-is] [--from CTX[/NS]] [--dry-run] [--yes] [--allow-kind] [--model-uri-base URL] [--router-image IMG] [--protected REGEX] [--force] [--timeout SECONDS] [--workspace DIR] [--json]',
  help: PROMOTE_HELP,
  options: {
    context: { type: 'string' },
    namespace: { type: 'string' },
    plan: { type: 'string', default: 'canary' },
    from: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    'allow-kind': { type: 'boolean', default: false },
    'model-uri-base': { type: 'string' },
    'router-image': { type: 'string' },
    protected: { type: 'string', default: 'prod' },
    force: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '300' },
    workspace: { type: 'string', default: '.' },
    ...jsonOption,
  },
  twin: {
    palette: ['promoteToCluster'],
    inputs: {
      experiment: '<positional>',
      context: '--context',
      plan: '--plan',
      modelUriBase: '--model-uri-base',
    },
  },
  async run(v, [ref]) {
    if (!ref) throw new UsageError('which experiment (file or name)?');
    const context = v.context as string | undefined;
    if (!context)
      throw new UsageError(
        '--context is required: the kubeconfig context to promote to (see kubectl config get-contexts)',
      );
    const timeout = Number(v.timeout);
    if (!(timeout > 0)) throw new UsageError('--timeout must be a number of seconds');
    let pattern: RegExp;
    try {
      pattern = new RegExp(v.protected as string, 'i');
    } catch {
      throw new UsageError(`--protected must be a regular expression, got "${String(v.protected)}"`);
    }
    const workspace = workspaceOf(v);
    const abort = onInterrupt();
    const quiet = !!v.json;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const result = await promoteToContext(
      {
        workspace,
        experiment: ref,
        context,
        namespace: v.namespace as string | undefined,
        plan: v.plan as PromotionPlan,
        from: v.from as string | undefined,
        modelUriBase: v['model-uri-base'] as string | undefined,
        routerImage: v['router-image'] as string | undefined,
        routerBundle: await routerBundle(ctx, v['router-image']),
        dryRun: !!v['dry-run'],
        yes: !!v.yes,
        allowKind: !!v['allow-kind'],
        protectedPattern: pattern,
        force: !!v.force,
        waitTimeoutMs: timeout * 1000,
        undoFile: join(
          workspace,
          '.model-canary',
          'promotions',
          `${context}-${ref.replace(/[^\w.-]/g, '_')}-${stamp}.before.yaml`,
        ),
        localEnvironment: localRuntime(ctx, v),
      },
      {
        confirm: askOnTerminal,
        onPreview: (p) => {
          if (quiet) return;
          console.log(p.diff ? colorDiff(p.diff) : `no changes: ${context} already runs this`);
          console.log(summarizePreview(p));
        },
        onProgress: progress(quiet),
        signal: abort.signal,
      },
    );
    promotionText(result, !!v.json);
    return result.status === 'failed' || result.status === 'declined' ? 1 : 0;
  },
});

const exportCommand = (ctx: CliContext): Command => ({
  summary:
    'write an experiment as manifests for GitOps (builtin stack, Seldon Core v2, KServe) or its monitoring (Prometheus rules, Grafana dashboard)',
  usage:
    'model-canary export <experiment-file> --target builtin|seldon|kserve|prometheus|grafana --out DIR [--namespace NS] [--model-uri-base URI] [--router-image IMG] [--allow-lossy] [--rate-window DURATION] [--alert-for DURATION] [--runbook-url URL] [--workspace DIR]',
  help: `Targets and what maps (also written at the top of every file):\n\n${EXPORT_TARGETS.map((t) => EXPORT_DOCS[t]).join('\n\n')}`,
  options: {
    target: { type: 'string', default: 'builtin' },
    out: { type: 'string' },
    namespace: { type: 'string' },
    'model-uri-base': { type: 'string' },
    'router-image': { type: 'string' },
    'allow-lossy': { type: 'boolean', default: false },
    'rate-window': { type: 'string' },
    'alert-for': { type: 'string' },
    'runbook-url': { type: 'string' },
    workspace: { type: 'string', default: '.' },
  },
  twin: {
    palette: ['exportManifests'],
    inputs: {
      experiment: '<positional>',
      target: '--target',
      modelUriBase: '--model-uri-base',
      out: '--out',
      allowLossy: '--allow-lossy',
    },
  },
  async run(v, [ref]) {
    if (!ref) throw new UsageError('which experiment file?');
    const target = v.target as ExportTarget;
    const result = await exportManifests({
      workspace: workspaceOf(v),
      experiment: ref,
      target,
      out: v.out as string,
      namespace: v.namespace as string | undefined,
      modelUriBase: v['model-uri-base'] as string | undefined,
      routerImage: v['router-image'] as string | undefined,
      routerBundle: target === 'builtin' ? await routerBundle(ctx, v['router-image']) : undefined,
      allowLossy: !!v['allow-lossy'],
      monitoring: {
        rateWindow: v['rate-window'] as string | undefined,
        alertFor: v['alert-for'] as string | undefined,
        runbookUrl: v['runbook-url'] as string | undefined,
      },
    });
    for (const f of result.files) console.log(f);
    for (const n of result.notes) console.error(`  note: ${n}`);
    return 0;
  },
});

export function clusterCommands(ctx: CliContext): Record<string, Command> {
  return { cluster: clusterCommand(ctx), promote: promoteCommand(ctx), export: exportCommand(ctx) };
}
