/**
 * `model-canary`: the CLI over the same core the extension uses.
 * Exit codes: 0 ok, 1 failed, 2 usage (bad arguments, invalid input files).
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem } from '../core/spec/errors';
import { scanWorkspace } from '../core/workspace/discover';
import { formatDoctorReport } from '../kind/doctor';
import { checkPrerequisites } from '../operations/doctor';
import { isCancel } from '../operations/errors';
import { runCommand } from '../process/execaRunner';
import { ensureMlserverEnv } from '../runtime/python';
import { ensureRuntimes, runtimeNamed } from '../runtime/runtimePackages';
import { analyzeCommand } from './analyze';
import { clusterCommands } from './clusterCommands';
import { UsageError, isUsageError, onInterrupt, portFlag, type CliContext, type Command } from './command';
import { demoCommand } from './demoCommand';
import { environmentCommands } from './environmentCommands';
import { planCommand } from './planCommand';
import { labelCommand } from './labelCommand';
import { logCommand } from './logCommand';
import { rolloutCommands } from './rolloutCommands';
import { trafficCommands } from './trafficCommands';

const VERSION = '0.1.0';

/** The CLI's cache folder (virtual environments, tool binaries). */
export function cacheDir(): string {
  return process.env.MODEL_CANARY_CACHE ?? join(homedir(), '.cache/model-canary');
}

const baseCommands: Record<string, Command> = {
  analyze: analyzeCommand,
  doctor: {
    summary: 'check what a local kind cluster needs (container engine, kind, ports, inotify)',
    usage: 'model-canary doctor [--kind PATH] [--cluster NAME] [--port N] [--json]',
    options: {
      kind: { type: 'string' },
      cluster: { type: 'string', default: 'model-canary' },
      port: { type: 'string', default: '8090' },
      json: { type: 'boolean', default: false },
    },
    twin: { palette: ['runDoctor'], inputs: {} },
    async run(v) {
      const abort = onInterrupt();
      const report = await checkPrerequisites(
        {
          kindPath: v.kind as string | undefined,
          clusterName: v.cluster as string,
          hostPort: portFlag(v.port, '--port', true),
        },
        { signal: abort.signal },
      );
      console.log(v.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
      return report.ok ? 0 : 1;
    },
  },
  setup: {
    summary: 'create (or check) the Python environment with MLServer that local model servers run in',
    usage: 'model-canary setup [--python PATH] [--runtime xgboost|lightgbm]... [--json]',
    options: {
      python: { type: 'string' },
      runtime: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    async run(v) {
      const abort = onInterrupt();
      const runtimes = ((v.runtime as string[] | undefined) ?? []).map((name) => {
        try {
          return runtimeNamed(name);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      });
      const onLine = v.json ? undefined : (line: string): void => void process.stderr.write(`  ${line}\n`);
      const env = await ensureMlserverEnv(runCommand, {
        python: v.python as string | undefined,
        cacheDir: cacheDir(),
        signal: abort.signal,
        onLine,
      });
      // Deploy installs these on demand; --runtime installs them ahead (provisioning, offline use).
      await ensureRuntimes(
        runCommand,
        env,
        runtimes.map((r) => r.implementation),
        { signal: abort.signal, onLine },
      );
      if (v.json) console.log(JSON.stringify(env));
      else console.log(`${env.created ? 'created' : 'reusing'} the MLServer environment: ${env.dir}`);
      return 0;
    },
  },
  validate: {
    summary: 'find model versions and experiment files in a workspace and report their problems',
    usage: 'model-canary validate [--workspace DIR] [--json]',
    options: { workspace: { type: 'string', default: '.' }, json: { type: 'boolean', default: false } },
    async run(v) {
      const scan = await scanWorkspace(resolve(v.workspace as string));
      if (v.json) {
        console.log(
          JSON.stringify(
            {
              root: scan.root,
              models: scan.models.map((m) => ({
                name: m.name,
                dir: m.dir,
                implementation: m.implementation,
              })),
              experiments: scan.experiments.map((e) => ({
                file: e.file,
                name: e.name,
                valid: !!e.experiment,
              })),
              problems: scan.problems,
            },
            null,
            2,
          ),
        );
      } else {
        console.log(`models: ${scan.models.map((m) => m.name).join(', ') || 'none'}`);
        console.log(`experiments: ${scan.experiments.map((e) => e.name ?? e.file).join(', ') || 'none'}`);
        for (const p of scan.problems) console.error(formatProblem(p));
      }
      return scan.problems.length ? 2 : 0;
    },
  },
};

/** `model-canary router`: the same router as `node dist/router.js`, in the foreground. */
function routerCommand(ctx: CliContext): Command {
  return {
    summary: 'run the router in the foreground (same as node dist/router.js)',
    usage:
      'model-canary router --config <file>  (or --kube-configmap <namespace>/<name>; see --help of the router)',
    options: {},
    passthrough: true,
    run: (_values, args) => {
      const child = spawn(process.execPath, [ctx.routerScript, ...args], {
        stdio: 'inherit',
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
      return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    },
  };
}

function help(commands: Record<string, Command>): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'model-canary — serve ML models locally and test them the way production does',
    '',
    'Usage: model-canary <command> [options]   (model-canary <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 ok, 1 failed, 2 usage or invalid input.',
  ].join('\n');
}

/** Every command of the CLI by name. */
export function commandTable(ctx: CliContext): Record<string, Command> {
  return {
    ...baseCommands,
    ...environmentCommands(ctx),
    ...trafficCommands(ctx),
    ...rolloutCommands(ctx),
    plan: planCommand,
    ...clusterCommands(ctx),
    label: labelCommand(ctx),
    log: logCommand,
    demo: demoCommand(ctx),
    router: routerCommand(ctx),
  };
}

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const commands = commandTable(ctx);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help(commands));
    return name ? 0 : 2;
  }
  if (name === '--version') {
    console.log(VERSION);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`model-canary: unknown command "${name}"\n\n${help(commands)}`);
    return 2;
  }
  if (command.passthrough) return command.run({}, rest);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}${command.help ? `\n\n${command.help}` : ''}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
    return await command.run(values, positionals);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (isUsageError(e) || e.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`model-canary ${name}: ${e.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (isCancel(e)) {
      console.error('canceled');
      return 130;
    }
    console.error(`model-canary ${name}: ${e.message}`);
    return 1;
  }
}
