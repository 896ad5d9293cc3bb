/**
 * The Kubernetes commands: `cluster create|delete|status` (a local kind cluster), `promote`
 * (an experiment to a shared cluster, diff first) and `export` (manifests for GitOps).
 * `kubeRuntimeFor` builds the Kubernetes runtime for `up|deploy|split|report --runtime kube`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { formatProblem } from '../core/spec/errors';
import type { Experiment } from '../core/spec/experiment';
import { scanWorkspace } from '../core/workspace/discover';
import {
  createKindCluster,
  deleteKindCluster,
  DEFAULT_CLUSTER_NAME,
  kindClusterStatus,
  KindError,
} from '../kind';
import { DEFAULT_NODE_IMAGE } from '../kind/commands';
import { resolveKindBinary } from '../kind/locate';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig';
import { isKindContext, promote, type ConfirmQuestion, type PromotionPlan } from '../kube/promote';
import { summarizePreview, type Preview } from '../kube/preview';
import { readLiveStack } from '../kube/stackState';
import { EXPORT_DOCS, EXPORT_TARGETS, exportExperiment, type ExportTarget } from '../manifests/export';
import { DEFAULT_NAMESPACE, modelRefs, type ExperimentInput } from '../manifests/stack';
import { runCommand } from '../process/execaRunner';
import { KubeRuntime } from '../runtime/kubeRuntime';
import { ProcessRuntime } from '../runtime/processRuntime';
import { UsageError, onInterrupt, type Command } from './command';
import { findExperiment } from './experiments';
import type { CliContext } from './local';

const progress = (quiet: boolean) => (message: string) => {
  if (!quiet) process.stderr.write(`  ${message}\n`);
};

function port(raw: unknown, name = '--port'): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${name} must be a port number, got "${String(raw)}"`);
  return n;
}

/** The Kubernetes runtime from CLI options (`--context`, `--namespace`, `--model-uri-base`, `--router-image`, `--port`). */
export function kubeRuntimeFor(ctx: CliContext, v: Record<string, unknown>): KubeRuntime {
  const context = (v.context as string | undefined) ?? `kind-${DEFAULT_CLUSTER_NAME}`;
  return new KubeRuntime({
    workspace: resolve(String(v.workspace ?? '.')),
    context,
    namespace: v.namespace as string | undefined,
    routerScript: ctx.routerScript,
    routerImage: v['router-image'] as string | undefined,
    modelUriBase: v['model-uri-base'] as string | undefined,
    hostPort: v.port === undefined ? 8090 : port(v.port),
  });
}

/** Options `kubeRuntimeFor` reads, for commands that take `--runtime kube`. */
export const kubeRuntimeOptions = {
  context: { type: 'string' as const },
  namespace: { type: 'string' as const },
  'model-uri-base': { type: 'string' as const },
  'router-image': { type: 'string' as const },
};

/** An experiment by file path or by name in the workspace, with what the cluster needs of it. */
async function experimentInput(workspace: string, ref: string): Promise<ExperimentInput> {
  const experiment = await findExperiment(workspace, ref);
  const scan = await scanWorkspace(workspace);
  const problems = scan.problems.filter((p) => p.file === experiment.file);
  if (problems.length)
    throw new UsageError(`the experiment is invalid:\n${problems.map(formatProblem).join('\n')}`);
  const reference = experiment.spec.drift
    ? resolve(dirname(experiment.file), experiment.spec.drift.reference)
    : undefined;
  const referenceCsv = reference ? await readFile(reference, 'utf8').catch(() => undefined) : undefined;
  return { experiment, models: modelRefs(scan.root, scan.models), referenceCsv };
}

async function routerBundle(ctx: CliContext, image: unknown): Promise<string | undefined> {
  if (image) return undefined;
  if (!existsSync(ctx.routerScript))
    throw new UsageError(
      `the router bundle ${ctx.routerScript} is missing — build it (node esbuild.mjs) or pass --router-image`,
    );
  return readFile(ctx.routerScript, 'utf8');
}

/** A unified diff with + and - lines coloured on a terminal. */
export function colorDiff(diff: string, tty = !!process.stdout.isTTY): string {
  if (!tty) return diff;
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+++') || l.startsWith('---')
        ? `\x1b[1m${l}\x1b[0m`
        : l.startsWith('+')
          ? `\x1b[32m${l}\x1b[0m`
          : l.startsWith('-')
            ? `\x1b[31m${l}\x1b[0m`
            : l.startsWith('@@')
              ? `\x1b[36m${l}\x1b[0m`
              : l,
    )
    .join('\n');
}

/** Asks on the terminal (or reads a line piped in); an empty input declines. */
async function askOnTerminal(q: ConfirmQuestion): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: !!process.stdin.isTTY,
  });
  try {
    const answer = await Promise.race([
      rl.question(`${q.message} `),
      new Promise<string>((r) => rl.once('close', () => r(''))),
    ]);
    return answer;
  } finally {
    rl.close();
  }
}

const CLUSTER_HELP = `Subcommands:
  create   check Docker, kind and the port, then create the cluster: the workspace mounted at /models
           in the node, the router's NodePort ${'30090'} on 127.0.0.1:<port>, node image pinned by digest
           (${DEFAULT_NODE_IMAGE}; --image to override)
  delete   delete the cluster (its context kind-<name> goes with it)
  status   whether the cluster exists, and the Model Canary stack in it`;

export const clusterCommand = (ctx: CliContext): Command => ({
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
    json: { type: 'boolean', default: false },
  },
  async run(v, [sub]) {
    const abort = onInterrupt();
    const kindBinary = resolveKindBinary(v.kind as string | undefined);
    const name = v.name as string;
    const say = progress(!!v.json);
    try {
      switch (sub) {
        case 'create': {
          const created = await createKindCluster(runCommand, {
            kindBinary,
            name,
            workspace: resolve(v.workspace as string),
            hostPort: port(v.port),
            image: v.image as string | undefined,
            signal: abort.signal,
            onProgress: say,
          });
          if (v.json)
            console.log(
              JSON.stringify({ name: created.name, context: created.context, image: created.image }, null, 2),
            );
          else
            console.log(
              `kind cluster "${name}" created — context ${created.context}\nnext: model-canary up --runtime kube --context ${created.context} --port ${String(v.port)}`,
            );
          return 0;
        }
        case 'delete':
          await deleteKindCluster(runCommand, { kindBinary, name, signal: abort.signal, onProgress: say });
          if (!v.json) console.log(`kind cluster "${name}" deleted`);
          return 0;
        case 'status': {
          const status = await kindClusterStatus(runCommand, { kindBinary, name, signal: abort.signal });
          let stack: Awaited<ReturnType<KubeRuntime['status']>> | undefined;
          if (status.exists) {
            stack = await kubeRuntimeFor(ctx, { ...v, context: status.context })
              .status()
              .catch(() => undefined);
          }
          if (v.json) console.log(JSON.stringify({ ...status, stack }, null, 2));
          else {
            console.log(
              `kind cluster "${name}": ${status.exists ? `exists (context ${status.context})` : 'not created'}`,
            );
            if (stack) {
              console.log(
                `  router: ${stack.up ? stack.routerUrl : 'not deployed (model-canary up --runtime kube)'}`,
              );
              for (const c of stack.components)
                console.log(
                  `  ${c.state === 'ready' ? '✔' : '✖'} ${c.name.padEnd(20)} ${c.state}${c.detail ? `  (${c.detail})` : ''}`,
                );
            }
          }
          return status.exists ? 0 : 1;
        }
        default:
          throw new UsageError(`which subcommand: create, delete or status?`);
      }
    } catch (err) {
      if (err instanceof KindError) {
        console.error(err.message);
        return 1;
      }
      throw err;
    }
  },
});

/**
 * Where plan as-is takes the live weights from: --from CONTEXT[/NAMESPACE]; else the local
 * process environment if it runs the experiment; else the local kind cluster's; else none.
 */
async function liveWeights(
  ctx: CliContext,
  kc: KubeConfig,
  workspace: string,
  exp: Experiment,
  from: string | undefined,
  plan: PromotionPlan,
): Promise<{ sourceWeights?: Record<string, number>; source: string }> {
  const fileSource = `workspace:${relative(workspace, exp.file) || exp.file}`;
  const fromCluster = async (
    context: string,
    namespace: string,
  ): Promise<Record<string, number> | undefined> => {
    const live = await readLiveStack(kc, context, { namespace, platform: 'remote' });
    const entry = live.config?.experiments?.find((e) => e.name === exp.metadata.name);
    return entry && Object.fromEntries(entry.variants.map((x) => [x.name, x.weight]));
  };
  if (from) {
    const [context, namespace = DEFAULT_NAMESPACE] = from.split('/');
    const weights = await fromCluster(context!, namespace);
    if (!weights) throw new UsageError(`${exp.metadata.name} is not deployed in ${context}/${namespace}`);
    return { sourceWeights: weights, source: `${context}/${namespace}` };
  }
  if (plan !== 'as-is') return { source: fileSource };
  const local = await new ProcessRuntime({
    workspace,
    routerScript: ctx.routerScript,
    cacheDir: ctx.cacheDir,
  })
    .report(exp.metadata.name)
    .catch(() => undefined);
  if (local)
    return {
      sourceWeights: Object.fromEntries(local.variants.map((x) => [x.name, x.weight])),
      source: `local:${workspace}`,
    };
  const kindContext = `kind-${DEFAULT_CLUSTER_NAME}`;
  if (kc.getContextObject(kindContext)) {
    const weights = await fromCluster(kindContext, DEFAULT_NAMESPACE).catch(() => undefined);
    if (weights) return { sourceWeights: weights, source: `${kindContext}/${DEFAULT_NAMESPACE}` };
  }
  return { source: fileSource };
}

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

export const promoteCommand = (ctx: CliContext): Command => ({
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
    json: { type: 'boolean', default: false },
  },
  async run(v, [ref]) {
    if (!ref) throw new UsageError('which experiment (file or name)?');
    const context = v.context as string | undefined;
    if (!context)
      throw new UsageError(
        '--context is required: the kubeconfig context to promote to (see kubectl config get-contexts)',
      );
    const plan = v.plan as PromotionPlan;
    if (plan !== 'canary' && plan !== 'as-is') throw new UsageError('--plan must be canary or as-is');
    const timeout = Number(v.timeout);
    if (!(timeout > 0)) throw new UsageError('--timeout must be a number of seconds');
    let pattern: RegExp;
    try {
      pattern = new RegExp(v.protected as string, 'i');
    } catch {
      throw new UsageError(`--protected must be a regular expression, got "${String(v.protected)}"`);
    }
    const workspace = resolve(v.workspace as string);
    const input = await experimentInput(workspace, ref);
    const exp = input.experiment;
    const kc = loadKubeConfig();

    const { sourceWeights, source } = await liveWeights(
      ctx,
      kc,
      workspace,
      exp,
      v.from as string | undefined,
      plan,
    );
    const say = progress(!!v.json);
    if (plan === 'as-is')
      say(
        sourceWeights
          ? `live weights from ${source}`
          : `no running environment has ${exp.metadata.name}: using the file's weights`,
      );
    const abort = onInterrupt();
    const quiet = !!v.json;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const result = await promote(kc, input, {
      context,
      namespace: v.namespace as string | undefined,
      plan,
      sourceWeights,
      source,
      stack: {
        platform: isKindContext(kc, context) ? 'kind' : 'remote',
        ...(v['model-uri-base']
          ? { modelSource: { kind: 'http', baseUrl: v['model-uri-base'] as string } }
          : {}),
        router: {
          image: v['router-image'] as string | undefined,
          bundle: await routerBundle(ctx, v['router-image']),
        },
      },
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
        `${context}-${exp.metadata.name}-${stamp}.before.yaml`,
      ),
      confirm: askOnTerminal,
      onPreview: (p: Preview) => {
        if (quiet) return;
        console.log(p.diff ? colorDiff(p.diff) : `no changes: ${context} already runs this`);
        console.log(summarizePreview(p));
      },
      onProgress: say,
      signal: abort.signal,
    });
    if (v.json)
      console.log(
        JSON.stringify(
          {
            status: result.status,
            context: result.context,
            namespace: result.namespace,
            weights: result.weights,
            changes: result.preview.changes.map((c) => ({ ref: c.ref, action: c.action })),
            applied: result.applied.map((a) => ({ ref: a.ref, action: a.action })),
            undo: result.undo,
            error: result.error,
          },
          null,
          2,
        ),
      );
    else {
      const split = Object.entries(result.weights)
        .map(([n, w]) => `${n}=${w}`)
        .join(' ');
      const line = {
        applied: `promoted ${exp.metadata.name} to ${context}/${result.namespace} (${split})`,
        'dry-run': `dry run: nothing applied to ${context}/${result.namespace}`,
        unchanged: `${context}/${result.namespace} already runs this — nothing to apply`,
        declined: `not confirmed: nothing applied to ${context}`,
        failed: `promotion failed: ${result.error ?? ''}`,
      }[result.status];
      (result.status === 'failed' ? console.error : console.log)(line);
      if (result.status === 'failed') {
        const applied = result.applied.filter((a) => a.action !== 'unchanged');
        if (applied.length)
          console.error(`applied before the failure: ${applied.map((a) => a.ref).join(', ')}`);
      }
      if (result.undo && result.status !== 'applied')
        console.error(`to undo:\n  ${result.undo.split('\n').join('\n  ')}`);
      else if (result.undo) console.log(`to undo:\n  ${result.undo.split('\n').join('\n  ')}`);
    }
    return result.status === 'failed' || result.status === 'declined' ? 1 : 0;
  },
});

export const exportCommand = (ctx: CliContext): Command => ({
  summary: 'write an experiment as manifests for GitOps: builtin stack, Seldon Core v2 or KServe',
  usage:
    'model-canary export <experiment-file> --target builtin|seldon|kserve --out DIR [--namespace NS] [--model-uri-base URI] [--router-image IMG] [--workspace DIR]',
  help: `Targets and what maps (also written at the top of every file):\n\n${EXPORT_TARGETS.map((t) => EXPORT_DOCS[t]).join('\n\n')}`,
  options: {
    target: { type: 'string', default: 'builtin' },
    out: { type: 'string' },
    namespace: { type: 'string' },
    'model-uri-base': { type: 'string' },
    'router-image': { type: 'string' },
    workspace: { type: 'string', default: '.' },
  },
  async run(v, [ref]) {
    if (!ref) throw new UsageError('which experiment file?');
    const target = v.target as ExportTarget;
    if (!EXPORT_TARGETS.includes(target))
      throw new UsageError(`--target must be one of ${EXPORT_TARGETS.join(', ')}`);
    if (!v.out) throw new UsageError('--out DIR is required');
    const input = await experimentInput(resolve(v.workspace as string), ref);
    let result;
    try {
      result = exportExperiment(input, {
        target,
        namespace: v.namespace as string | undefined,
        modelUriBase: v['model-uri-base'] as string | undefined,
        routerImage: v['router-image'] as string | undefined,
        routerBundle: target === 'builtin' ? await routerBundle(ctx, v['router-image']) : undefined,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const out = resolve(v.out as string);
    await mkdir(out, { recursive: true });
    for (const f of result.files) {
      await writeFile(join(out, f.name), f.content);
      console.log(join(out, f.name));
    }
    for (const n of result.notes) console.error(`  note: ${n}`);
    return 0;
  },
});

/** Every command of this module, for the command table. */
export function kubeCommands(ctx: CliContext): Record<string, Command> {
  return { cluster: clusterCommand(ctx), promote: promoteCommand(ctx), export: exportCommand(ctx) };
}
