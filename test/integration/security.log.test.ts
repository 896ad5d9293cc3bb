/**
 * A poisoned event log never stops the router (SECURITY.md): lines that are JSON but not events
 * (`null`, a weights event with `weights: null` or with infinite weights, a negative latency)
 * are skipped at start, quarantined with their offsets and counted in the report; `model-canary
 * log check` lists them and `log repair` removes them, keeping a backup. Real router and CLI.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client } from '../harness/routerClient';
import { REPO_ROOT } from '../harness/tools';
import { startUpstream, type Upstream } from '../harness/upstream';

const CLI = join(REPO_ROOT, 'dist/cli.js');
const cli = (...args: string[]) => execa('node', [CLI, ...args], { reject: false });
const SEGMENT = 'events-00000001.jsonl';

const good = (i: number, variant: string) =>
  JSON.stringify({
    type: 'request',
    id: `r${i}`,
    ts: 1_700_000_000_000 + i,
    experiment: 'shop',
    variant,
    latencyMs: 3,
    status: 200,
  });
const POISON = [
  'null',
  JSON.stringify({ type: 'weights', ts: 1_700_000_000_100, experiment: 'shop', weights: null }),
  JSON.stringify({
    type: 'weights',
    ts: 1_700_000_000_101,
    experiment: 'shop',
    weights: { v1: 1e308, v2: 1e308 },
  }),
  JSON.stringify({
    type: 'request',
    id: 'neg',
    ts: 1,
    experiment: 'shop',
    variant: 'v1',
    latencyMs: -5,
    status: 200,
  }),
];

describe('security: a poisoned event log (real router process, model-canary log)', function () {
  let upstream: Upstream;
  let dir: string;
  let dataDir: string;
  let config: string;
  let router: RunningRouter | undefined;

  before(async () => {
    upstream = await startUpstream();
    dir = await routerDir();
    dataDir = join(dir, 'data');
    config = await writeRouterConfig(dir, {
      eventLog: { fsyncIntervalMs: 20 },
      experiments: [
        {
          name: 'shop',
          endpoint: 'shop',
          variants: [
            { name: 'v1', url: upstream.url, model: 'm1', weight: 90 },
            { name: 'v2', url: upstream.url, model: 'm2', weight: 10 },
          ],
        },
      ],
    });
    await mkdir(dataDir, { recursive: true });
    // Good lines around the poisoned ones, so their offsets are inside the file.
    const lines = [good(1, 'v1'), POISON[0]!, good(2, 'v2'), ...POISON.slice(1), good(3, 'v1')];
    await writeFile(join(dataDir, SEGMENT), lines.join('\n') + '\n');
  });

  after(async () => {
    await router?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts anyway, counts and quarantines each bad line with its offset, and reports it', async () => {
    const original = await readFile(join(dataDir, SEGMENT), 'utf8');
    router = await startRouter(config);
    assert.match(router.output(), /4 event-log lines are not events and were skipped/);
    assert.match(router.output(), /model-canary log repair/);
    const client = new Client(router.url, 2);
    const listed = (await client.send('GET', '/api/v1/experiments')).json() as {
      eventLog?: { quarantined: number };
      experiments: { weights: Record<string, number> }[];
    };
    assert.equal(listed.eventLog?.quarantined, 4);
    // Neither the null weights nor the infinite ones took effect.
    assert.deepEqual(listed.experiments[0]!.weights, { v1: 90, v2: 10 });
    const report = (await client.send('GET', '/api/v1/experiments/shop/report')).json() as {
      eventLog?: { quarantined: number; quarantineFile: string };
      variants: { name: string; requests: number }[];
    };
    assert.equal(report.eventLog?.quarantined, 4);
    assert.equal(report.eventLog?.quarantineFile, join(dataDir, 'quarantine.jsonl'));
    const side = (await readFile(join(dataDir, 'quarantine.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(side.length, 4);
    for (const [i, entry] of side.entries()) {
      const e = JSON.parse(entry) as { segment: string; offset: number; line: string; reason: string };
      assert.equal(e.segment, SEGMENT);
      assert.equal(e.line, POISON[i]);
      // The offset is where the line starts in the segment.
      assert.equal(Buffer.from(original).toString('utf8', e.offset, e.offset + e.line.length), e.line);
    }
    assert.match(side[0]!, /not an event object \(got null\)/);
    assert.match(side[2]!, /finite positive/);
    assert.match(side[3]!, /latencyMs: must be ≥ 0/);
    await client.close();
    await router.stop();
    // A second start quarantines nothing twice.
    router = await startRouter(config);
    assert.equal((await readFile(join(dataDir, 'quarantine.jsonl'), 'utf8')).trim().split('\n').length, 4);
    await router.stop();
    router = undefined;
  });

  it('log check lists the bad lines (exit 1); log repair removes them and keeps a backup', async () => {
    const before = await readFile(join(dataDir, SEGMENT), 'utf8');
    const check = await cli('log', 'check', dataDir);
    assert.equal(check.exitCode, 1, check.stderr);
    assert.match(check.stdout, /4 not events/);
    assert.match(check.stdout, new RegExp(`${SEGMENT}:2 \\(byte \\d+\\): not an event object`));
    assert.match(check.stdout, /fix: model-canary log repair/);

    const repair = await cli('log', 'repair', dataDir, '--json');
    assert.equal(repair.exitCode, 0, repair.stderr);
    const result = JSON.parse(repair.stdout) as { backup: string; rewritten: string[] };
    assert.deepEqual(result.rewritten, [SEGMENT]);
    assert.equal(await readFile(join(result.backup, SEGMENT), 'utf8'), before, 'the original is kept');
    assert.ok((await readdir(result.backup)).includes('quarantine.jsonl'));

    const again = await cli('log', 'check', dataDir);
    assert.equal(again.exitCode, 0, again.stdout);
    assert.match(again.stdout, /\d+ lines, 0 not events/);
    router = await startRouter(config);
    const client = new Client(router.url, 2);
    const listed = (await client.send('GET', '/api/v1/experiments')).json() as { eventLog?: unknown };
    assert.equal(listed.eventLog, undefined, 'nothing quarantined after the repair');
    await client.close();
    // Never under a running router: it appends to the last segment.
    const busy = await cli('log', 'repair', dataDir);
    assert.equal(busy.exitCode, 2);
    assert.match(
      busy.stderr,
      new RegExp(`a router \\(pid ${router.proc.pid}\\) is writing this log — stop it first`),
    );
    await router.stop();
    router = undefined;
    assert.equal((await cli('log', 'repair', dataDir)).exitCode, 0, 'a stopped router leaves no mark');
  });

  it('log check refuses a folder that is not a log (exit 2, says what to give)', async () => {
    const res = await cli('log', 'check', join(dir, 'nowhere'));
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /is not a folder — give the router's data directory/);
  });
});
