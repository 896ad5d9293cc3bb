// The code-server session localLoop.e2e.ts runs in: the workbench with the packaged VSIX and the
// router on a port of its own, the dialogs markup would open, and the processes of the local
// environment the extension starts (and leaves running when code-server stops).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { ensureCodeServer, freePort, requireVsix, startCodeServer } from './codeServer';
import { launchChromium, Workbench } from './workbench';

export class LocalLoopSession {
  server: CodeServer | undefined;
  browser: Browser | undefined;
  wb: Workbench | undefined;
  routerPort = 0;
  /** Dialogs opened in any frame (the webview's included): markup that ran as code. */
  readonly dialogs: string[] = [];
  readonly timings: string[] = [];

  readonly workbench = (): Workbench => {
    assert.ok(this.wb, 'the workbench did not open (see the "before all" hook failure)');
    return this.wb;
  };

  readonly root = (): string => {
    assert.ok(this.server);
    return this.server.root;
  };

  /** Installs code-server if needed, starts it with the VSIX and opens the workbench. */
  async open(): Promise<void> {
    const install = ensureCodeServer();
    const vsix = requireVsix();
    this.routerPort = await freePort();
    this.server = await startCodeServer({
      install,
      vsix: [vsix],
      settings: { 'modelCanary.router.port': this.routerPort },
    });
    this.browser = await launchChromium(install.chromium);
    this.wb = await Workbench.open(this.browser, this.server);
    this.wb.page.on('dialog', (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss().catch(() => undefined);
    });
    console.log(`    [e2e] workspace ${this.server.folder}, router port ${this.routerPort}`);
  }

  /** Prints the last lines of each log of the local environment. */
  printLogTails(): void {
    const logs = this.server ? path.join(this.server.folder, '.model-canary', 'logs') : undefined;
    for (const file of logs && fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
      const tail = fs.readFileSync(path.join(logs!, file), 'utf8').split('\n').slice(-15).join('\n      ');
      console.log(`    ${file} (last 15 lines):\n      ${tail}`);
    }
  }

  /** Kills what the local environment left running, then closes the browser and code-server. */
  async close(): Promise<void> {
    // The extension starts MLServer and the router detached: stopping code-server does not end them.
    if (this.server != null) {
      for (const p of environmentProcesses(this.server.root)) {
        console.log(`    [e2e] left over, killing ${p.pid}: ${p.args.slice(0, 160)}`);
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await this.wb?.close().catch(() => undefined);
    await this.browser?.close().catch(() => undefined);
    await this.server?.stop();
    if (this.timings.length) console.log(`    [e2e] timings:\n      ${this.timings.join('\n      ')}`);
  }
}

/** A process of the local environment of this test (its command line names the test's temp root). */
export interface EnvProcess {
  pid: number;
  args: string;
}

/** MLServer (run from the venv in the extension's global storage) and router processes under `root`. */
export function environmentProcesses(root: string): EnvProcess[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args=', '-ww'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m != null)
    .map((m) => ({ pid: Number(m[1]), args: m[2] ?? '' }))
    .filter((p) => p.pid !== process.pid && p.args.includes(root) && /mlserver|router\.js/.test(p.args));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
