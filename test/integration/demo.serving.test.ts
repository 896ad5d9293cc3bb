import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../harness/tools';
import { copySampleModels, removeSampleModels } from '../harness/sampleWorkspace';

const CLI = join(REPO_ROOT, 'dist/cli.js');

// `npm run demo` without --exit: it keeps serving (the router answers) until Ctrl-C, then stops
// the router and the MLServer processes it started. The process once left that wait as soon as
// it began (nothing held Node's event loop open), leaving everything running behind it.
describe('the demo serves until Ctrl-C (real router, MLServer, simulator)', function () {
  let ws: string;

  beforeEach(async () => {
    ws = await copySampleModels('mc-demo-');
  });

  afterEach(async () => {
    await removeSampleModels(ws);
  });

  it('keeps the router answering after the report, and Ctrl-C stops it and exits 0', async () => {
    const demo = execa(
      'node',
      [CLI, 'demo', '--requests', '300', '--rps', '100', '--port', '0', '--workspace', ws],
      {
        reject: false,
        timeout: 300_000,
      },
    );
    let stdout = '';
    let stderr = '';
    demo.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const serving = new Promise<void>((resolve, reject) => {
      demo.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('serving — press Ctrl-C to stop')) resolve();
      });
      void demo.then(() => reject(new Error(`the demo exited before serving:\n${stderr}`)));
    });
    await serving;
    const endpoint = /^endpoint:\s+POST (http:\/\/127\.0\.0\.1:\d+)\//m.exec(stdout)?.[1];
    assert.ok(endpoint, stdout);

    // Still there a while later, and the router still answers.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(demo.exitCode, null, `the demo exited while it should serve:\n${stderr}`);
    const live = await fetch(`${endpoint}/v2/health/live`);
    assert.equal(live.status, 200);

    demo.kill('SIGINT');
    const res = await demo;
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(res.stderr, /stopping the local environment/);
    await assert.rejects(fetch(`${endpoint}/v2/health/live`), 'the router is stopped');
  });
});
