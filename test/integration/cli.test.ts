import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const CLI = join(REPO_ROOT, 'dist/cli.js');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/analysis');
const cli = (...args: string[]) => execa('node', [CLI, ...args], { reject: false, cwd: REPO_ROOT });

// The built CLI (dist/cli.js), as users run it: exit codes, --help, --json.
describe('model-canary CLI (dist/cli.js)', () => {
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mc-cli-'));
  });

  after(() => rm(tmp, { recursive: true, force: true }));

  it('prints help with every command and exits 2 without one', async () => {
    const res = await cli();
    assert.equal(res.exitCode, 2);
    for (const name of [
      'analyze',
      'up',
      'deploy',
      'simulate',
      'split',
      'report',
      'status',
      'logs',
      'down',
      'demo',
      'doctor',
      'router',
    ]) {
      assert.match(res.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
    assert.equal((await cli('--help')).exitCode, 0);
  });

  it('exits 2 on an unknown command or option, naming it', async () => {
    const unknown = await cli('frobnicate');
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badOption = await cli('analyze', '--evnets', 'x');
    assert.equal(badOption.exitCode, 2);
    assert.match(badOption.stderr, /--evnets/);
  });

  it('analyze --json prints the report of an event log and lists skipped lines on stderr', async () => {
    const res = await cli(
      'analyze',
      '--events',
      join(FIXTURES, 'small.events.jsonl'),
      '--experiment',
      join(FIXTURES, 'experiment.yaml'),
      '--json',
    );
    assert.equal(res.exitCode, 0, res.stderr);
    const report = JSON.parse(res.stdout) as {
      experiment: string;
      variants: { name: string }[];
      comparisons: unknown[];
      malformedLines: { count: number; lines: { line: number }[] };
    };
    assert.equal(report.experiment, 'checkout');
    assert.deepEqual(
      report.variants.map((v) => v.name),
      ['v1', 'v2', 'v3'],
    );
    assert.equal(report.comparisons.length, 2);
    assert.equal(report.malformedLines.count, 5);
    assert.match(res.stderr, /skipped 5 malformed line\(s\):\n[^]*small\.events\.jsonl:6: not JSON/);
  });

  it('analyze without --json prints a readable table', async () => {
    const res = await cli(
      'analyze',
      '--events',
      join(FIXTURES, 'small.events.jsonl'),
      '--experiment',
      join(FIXTURES, 'experiment.yaml'),
    );
    assert.equal(res.exitCode, 0);
    assert.match(res.stdout, /^variant\s+role\s+weight\s+observed/m);
    assert.match(res.stdout, /Sample ratio: chi² [\d.]+, p = [\d.<]+/);
    assert.match(res.stdout, /v2: (promote|rollback|continue|inconclusive) — /);
  });

  it('analyze --help says malformed lines are skipped', async () => {
    const res = await cli('analyze', '--help');
    assert.equal(res.exitCode, 0);
    assert.match(res.stdout, /Malformed lines are SKIPPED/);
  });

  it('analyze caches beside the log: the second run reads only the cache and prints the same; --no-cache writes none', async () => {
    const dir = join(tmp, 'cached');
    await mkdir(dir);
    await copyFile(join(FIXTURES, 'small.events.jsonl'), join(dir, 'events.jsonl'));
    const args = [
      'analyze',
      '--events',
      join(dir, 'events.jsonl'),
      '--experiment',
      join(FIXTURES, 'experiment.yaml'),
      '--json',
    ];
    const parse = (stdout: string) => JSON.parse(stdout) as { cache: { used: string; readBytes: number } };
    const off = await cli(...args, '--no-cache');
    assert.equal(parse(off.stdout).cache.used, 'off');
    assert.deepEqual(await readdir(dir), ['events.jsonl']);
    const cold = await cli(...args);
    const warm = await cli(...args);
    assert.deepEqual([parse(cold.stdout).cache.used, parse(warm.stdout).cache.used], ['none', 'report']);
    assert.equal(parse(warm.stdout).cache.readBytes, 0);
    const strip = (stdout: string) => ({ ...(JSON.parse(stdout) as object), cache: undefined });
    assert.deepEqual(strip(warm.stdout), strip(cold.stdout));
    assert.deepEqual(strip(off.stdout), strip(cold.stdout));
    assert.equal(warm.stderr, cold.stderr);
    assert.deepEqual(await readdir(dir), ['.model-canary-cache', 'events.jsonl']);
  });

  it('analyze exits 2 naming a missing drift reference', async () => {
    const exp = join(tmp, 'exp.yaml');
    const text = await readFile(join(SAMPLE_MODELS, 'experiments/propensity.yaml'), 'utf8');
    await writeFile(exp, text.replace('../data/reference.csv', 'missing/reference.csv'));
    await writeFile(join(tmp, 'events.jsonl'), '');
    const res = await cli('analyze', '--events', join(tmp, 'events.jsonl'), '--experiment', exp);
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /the drift reference .*missing\/reference\.csv .*cannot be read/);
  });

  it('analyze exits 2 naming the file, line and field of an invalid experiment', async () => {
    const exp = join(tmp, 'bad.yaml');
    const text = await readFile(join(FIXTURES, 'experiment.yaml'), 'utf8');
    await writeFile(exp, text.replace('weight: 10 }', 'weight: ten }'));
    const res = await cli('analyze', '--events', join(FIXTURES, 'small.events.jsonl'), '--experiment', exp);
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /bad\.yaml:9:\d+: spec\.variants\[1\]\.weight: /);
  });

  it('label exits 2 naming what to give, before it looks for a router', async () => {
    const none = await cli('label', 'propensity', '--workspace', tmp);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /give a file of labels \(--file labels\.jsonl\|\.csv\) or --id and --label/);
    const file = join(tmp, 'labels.jsonl');
    await writeFile(file, '{"requestId": "r1", "label": 1}\n{"requestId": "r2"}\n');
    const bad = await cli('label', 'propensity', '--file', file, '--workspace', tmp);
    assert.equal(bad.exitCode, 2);
    assert.match(
      bad.stderr,
      /labels\.jsonl:2: expected \{"requestId": "<x-request-id>", "label": <class or value>\}/,
    );
    const half = await cli('label', 'propensity', '--id', 'r1', '--workspace', tmp);
    assert.equal(half.exitCode, 2);
    assert.match(half.stderr, /give both --id .* and --label/);
  });

  it('validate lists the sample workspace and exits 0', async () => {
    const res = await cli('validate', '--workspace', SAMPLE_MODELS, '--json');
    assert.equal(res.exitCode, 0);
    const out = JSON.parse(res.stdout) as { models: { name: string }[]; problems: unknown[] };
    assert.deepEqual(
      out.models.map((m) => m.name),
      [
        'offer-decision',
        'propensity-features',
        'propensity-v1-encoded',
        'propensity-v1',
        'propensity-v2',
        'propensity-v3',
        'propensity-xgb',
      ],
    );
    assert.deepEqual(out.problems, []);
  });

  it('doctor exits 1 and names Docker when no daemon runs', async () => {
    // No daemon to reach, whether or not dockerd runs here: DOCKER_HOST at a socket that does not exist.
    const res = await execa('node', [CLI, 'doctor', '--port', '0'], {
      reject: false,
      cwd: REPO_ROOT,
      env: { DOCKER_HOST: `unix://${join(tmp, 'docker.sock')}` },
    });
    assert.equal(res.exitCode, 1);
    assert.match(res.stdout, /Docker is not running/);
  });
});
