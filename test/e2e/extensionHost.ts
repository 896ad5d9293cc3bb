// Runs an extension-host test suite (VS Code's extensionTestsPath protocol) inside code-server:
// the server is started with VS Code's `enable-smoke-test-driver` option (without it the built
// workbench ignores the `payload` URL parameter), the page is opened with
// payload=[["extensionDevelopmentPath","vscode-remote://remote/<path>"],["extensionTestsPath",...]],
// and the workbench reports the end of the run through window.codeAutomationExit(code), as in
// VS Code's own web integration tests.
import type { Browser } from 'playwright-core';
import type { CodeServerInstall } from './codeServer';
import { startCodeServer } from './codeServer';
import { launchChromium } from './workbench';

export interface ExtensionTestsOptions {
  install: CodeServerInstall;
  /** Folder of the extension under development (its package.json and built main). */
  extensionDevelopmentPath: string;
  /** The compiled test runner module (exports run(): Promise<void>). */
  extensionTestsPath: string;
  /** Folder copied and opened as the workspace. */
  workspaceSource?: string;
  timeoutMs?: number;
  /** Receives each log line of the run as it comes (default: console.log). */
  onLog?: (line: string) => void;
}

export interface ExtensionTestsResult {
  exitCode: number;
  /** Lines the extension host and the workbench logged during the run. */
  output: string[];
  serverLog: string;
}

/** Workbench chatter that says nothing about the tests (no network here, no gallery). */
function isNoise(text: string): boolean {
  return /open-vsx\.org|ERR_NAME_NOT_RESOLVED|ENOTFOUND|Creating a socket|connection token|reconnection-grace-time|AgentHost|AccountPolicyGate|Service Worker|builtin extensions cache|^\s+at /.test(
    text,
  );
}

const remoteUri = (p: string) => `vscode-remote://remote${p.startsWith('/') ? '' : '/'}${p}`;

export async function runExtensionTestsInCodeServer(
  opts: ExtensionTestsOptions,
): Promise<ExtensionTestsResult> {
  const onLog = opts.onLog ?? ((l: string) => console.log(l));
  const output: string[] = [];
  const log = (line: string) => {
    output.push(line);
    onLog(line);
  };
  const server = await startCodeServer({
    install: opts.install,
    workspaceSource: opts.workspaceSource,
    args: ['--vscode-option', 'enable-smoke-test-driver'],
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(opts.install.chromium);
    const context = await browser.newContext();
    let finish: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (finish = resolve));
    // The workbench's log lines (the extension host's console among them) come through here.
    await context.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      if (!isNoise(text)) log(type === 'info' || type === 'log' ? text : `[${type}] ${text}`);
    });
    await context.exposeFunction('codeAutomationExit', (code: number) => finish(code));
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remoteUri(opts.extensionDevelopmentPath)],
      ['extensionTestsPath', remoteUri(opts.extensionTestsPath)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ]);
    const page = await context.newPage();
    page.on('pageerror', (err) => log(`[pageerror] ${err.message}`));
    await page.goto(server.workbenchUrl({ payload }), { waitUntil: 'domcontentloaded' });
    const timeoutMs = opts.timeoutMs ?? 180_000;
    const code = await Promise.race([
      exited,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`no codeAutomationExit within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
    return { exitCode: code, output, serverLog: server.log() };
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
}
