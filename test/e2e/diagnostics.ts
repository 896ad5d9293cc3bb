// On a failed test: a screenshot plus the tails of the browser console and the code-server log.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Context } from 'mocha';
import type { CodeServer } from './codeServer';
import { resultsDir } from './codeServer';
import type { Workbench } from './workbench';

export async function dumpOnFailure(ctx: Context, wb: Workbench | undefined, server: CodeServer | undefined) {
  const test = ctx.currentTest;
  if (test?.state !== 'failed') return;
  const name = `FAILED-${test.fullTitle()}`.slice(0, 120);
  fs.mkdirSync(resultsDir, { recursive: true });
  if (wb != null) {
    const shot = await wb.screenshot(name).catch(() => undefined);
    if (shot != null) console.log(`    screenshot: ${path.relative(process.cwd(), shot)}`);
    console.log(
      `    browser console (last 20):\n${wb.console
        .slice(-20)
        .map((l) => `      ${l}`)
        .join('\n')}`,
    );
  }
  if (server != null) {
    const tail = server.log().split('\n').slice(-30).join('\n      ');
    console.log(`    code-server log (last 30 lines):\n      ${tail}`);
  }
}
