import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const CLI = join(REPO_ROOT, 'dist/cli.js');
const cli = (...args: string[]) => execa('node', [CLI, ...args], { reject: false, cwd: REPO_ROOT });
const EXPERIMENT = join(SAMPLE_MODELS, 'experiments/propensity.yaml');

interface SampleFixture {
  sample: { nRaw: number; ratio: number };
}

// `model-canary plan` as users run it (dist/cli.js), on the sample workspace's 95/5 experiment.
describe('model-canary plan (dist/cli.js)', () => {
  let statsmodels: SampleFixture['sample'];
  let tmp: string;

  before(async () => {
    // statsmodels' samplesize_proportions_2indep_onetail at 95/5 (test/fixtures/stats/planning.py).
    const fixture = JSON.parse(
      await readFile(join(REPO_ROOT, 'test/fixtures/stats/planning.json'), 'utf8'),
    ) as SampleFixture;
    statsmodels = fixture.sample;
    tmp = await mkdtemp(join(tmpdir(), 'mc-plan-'));
  });

  after(() => rm(tmp, { recursive: true, force: true }));

  it('prints the split, MDE, alpha, power, the fixed horizon at the 95/5 ratio and the expected time to detect', async () => {
    const res = await cli('plan', 'propensity', '--workspace', SAMPLE_MODELS, '--rps', '20');
    assert.equal(res.exitCode, 0, res.stderr);
    console.log(res.stdout.replace(/^/gm, '      '));
    const fixed = Math.ceil(statsmodels.nRaw).toLocaleString('en-US');
    assert.match(res.stdout, /split 95\/5: MDE \+1\.00pp \(\+10\.0%\) \(default\), α 0\.05, power 0\.8/);
    assert.match(res.stdout, new RegExp(`fixed horizon: ${fixed} users in the candidate`));
    assert.match(
      res.stdout,
      /always-valid test at the MDE: expected [\d,]+ users in all \(.+\), 10th–90th percentile/,
    );
    assert.match(
      res.stdout,
      /about [\d.]+ (hours|minutes|days) to detect \+1\.00pp \(\+10\.0%\) \(expected;/,
    );
  });

  it('--json gives the same plan as data, its durations at the rate given', async () => {
    const res = await cli('plan', EXPERIMENT, '--rps', '20', '--baseline-rate', '0.1', '--json');
    assert.equal(res.exitCode, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      unit: string;
      candidates: {
        candidate: string;
        plan: {
          ratio: number;
          fixedHorizon: { candidate: number; total: number };
          sequential: { expected: { total: number }; p10: { total: number }; p90: { total: number } };
        };
        durations: { unitsPerSecond: number; expected: number; fixedHorizon: number };
      }[];
    };
    assert.equal(out.unit, 'user');
    const [v2] = out.candidates;
    assert.equal(v2!.candidate, 'v2');
    assert.equal(v2!.plan.ratio, statsmodels.ratio);
    assert.equal(v2!.plan.fixedHorizon.candidate, Math.ceil(statsmodels.nRaw));
    const s = v2!.plan.sequential;
    assert.ok(s.p10.total < s.expected.total && s.expected.total < s.p90.total, JSON.stringify(s));
    assert.equal(v2!.durations.unitsPerSecond, 20);
    assert.equal(v2!.durations.expected, s.expected.total / 20);
    assert.equal(v2!.durations.fixedHorizon, v2!.plan.fixedHorizon.total / 20);
  });

  it('reads the MDE, alpha and power from the experiment file', async () => {
    const text = (await readFile(EXPERIMENT, 'utf8'))
      .replace(
        'primary: { name: conversion, kind: proportion,',
        'primary: { name: conversion, kind: proportion, minimumDetectableEffect: 2pp, power: 0.9, alpha: 0.05,',
      )
      .replace('../data/reference.csv', join(SAMPLE_MODELS, 'data/reference.csv'));
    const file = join(tmp, 'planned.yaml');
    await writeFile(file, text);
    const res = await cli('plan', file, '--json');
    assert.equal(res.exitCode, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      sources: Record<string, string>;
      candidates: {
        plan: { mde: { absolute: number }; power: number };
        durations: { unitsPerSecond: number };
      }[];
    };
    assert.deepEqual(out.sources, { mde: 'spec', alpha: 'spec', power: 'spec', rps: 'default' });
    assert.ok(Math.abs(out.candidates[0]!.plan.mde.absolute - 0.02) < 1e-12);
    assert.equal(out.candidates[0]!.plan.power, 0.9);
    assert.equal(out.candidates[0]!.durations.unitsPerSecond, 10);
  });

  it('--within gives the chance to detect within a horizon', async () => {
    const res = await cli(
      'plan',
      'propensity',
      '--workspace',
      SAMPLE_MODELS,
      '--rps',
      '20',
      '--within',
      '5h',
    );
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(
      res.stdout,
      /\d+% chance to detect \+1\.00pp \(\+10\.0%\) within 5\.0 hours \(360,000 users\)/,
    );
    const json = await cli(
      'plan',
      'propensity',
      '--workspace',
      SAMPLE_MODELS,
      '--rps',
      '20',
      '--within',
      '5h',
      '--json',
    );
    const out = JSON.parse(json.stdout) as {
      withinSeconds: number;
      candidates: { plan: { sequential: { detectByHorizon: { total: number; probability: number } } } }[];
    };
    assert.equal(out.withinSeconds, 18_000);
    const h = out.candidates[0]!.plan.sequential.detectByHorizon;
    assert.equal(h.total, 360_000);
    assert.ok(h.probability > 0 && h.probability <= 1);
    const bad = await cli('plan', 'propensity', '--workspace', SAMPLE_MODELS, '--within', 'soon');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--within must be a duration > 0 such as 7d, 12h or 90m/);
  });

  it('exits 2 with what to give instead on bad input', async () => {
    const zero = await cli('plan', EXPERIMENT, '--rps', '0');
    assert.equal(zero.exitCode, 2);
    assert.match(zero.stderr, /--rps must be a number > 0/);
    const mean = await cli('plan', EXPERIMENT, '--baseline-mean', '3');
    assert.equal(mean.exitCode, 2);
    assert.match(mean.stderr, /is a proportion: give its baseline as --baseline-rate/);
    const unknown = await cli('plan', 'nope', '--workspace', SAMPLE_MODELS);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /no experiment "nope"/);
    const file = join(tmp, 'bad.yaml');
    await writeFile(
      file,
      (await readFile(EXPERIMENT, 'utf8')).replace(
        'primary: { name: conversion, kind: proportion,',
        'primary: { name: conversion, kind: proportion, minimumDetectableEffect: 0.01,',
      ),
    );
    const bad = await cli('plan', file);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /minimumDetectableEffect: a number is ambiguous for a proportion — write "1pp"/);
  });
});
