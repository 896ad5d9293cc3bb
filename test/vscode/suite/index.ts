// Entry that VS Code's extension host loads as extensionTestsPath (after esbuild bundles it, see
// ../buildSuite.ts): runs the *.test.js files next to it with mocha and rejects on a failure.
// The reporter prints plain lines: the extension host forwards console.log to the test runner
// (a terminal for @vscode/test-electron, the browser for code-server), where printf-style
// arguments would be lost.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_SUITE_BEGIN } = Mocha.Runner.constants;

class PlainReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.title) console.log(suite.title);
    });
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) =>
      console.log(`  ✔ ${test.title} (${test.duration ?? 0} ms)`),
    );
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => console.log(`  - ${test.title} (pending)`));
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, err: Error) =>
      console.log(`  ✖ ${test.title}\n    ${(err.stack ?? err.message).split('\n').join('\n    ')}`),
    );
  }
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: PlainReporter });
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (files.length === 0) throw new Error(`no *.test.js files in ${__dirname}`);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const stats = await new Promise<Mocha.Stats | undefined>((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats));
  });
  const passed = stats?.passes ?? 0;
  const failed = stats?.failures ?? 0;
  const pending = stats?.pending ?? 0;
  // The plain closing line that CI reads.
  console.log(`vscode-suite: ${passed} passed, ${failed} failed${pending > 0 ? `, ${pending} skipped` : ''}`);
  if (failed > 0) throw new Error(`${failed} extension-host test(s) failed`);
  if (passed === 0) throw new Error('no extension-host test ran');
}
