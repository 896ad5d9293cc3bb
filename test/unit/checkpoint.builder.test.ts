import assert from 'node:assert/strict';
import { ReportBuilder, type ReportBuilderOptions } from '../../src/core/analysis/reportBuilder';
import {
  CheckpointCodecError,
  checkpointBuilder,
  restoreBuilder,
  type BuilderCheckpoint,
} from '../../src/core/analysis/checkpoint';
import { parseExperiment, type Experiment } from '../../src/core/spec/experiment';
import type { ReferenceData } from '../../src/core/drift';
import type { ExperimentEvent } from '../../src/shared/events';
import { seededRandom } from '../../src/core/stats/random';

// The checkpoint property (#20 item 2): for any split point k, restoring the checkpoint taken
// after events[0..k] and ingesting events[k..] gives the report of ingesting all the events,
// over random streams that touch every part of the builder's state.

const T0 = 1_765_000_000_000;
const NAME = 'ckpt';

function experiment(extra: string, primary: string): Experiment {
  return parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: ${NAME} }
spec:
  endpoint: ${NAME}
  variants: [{ name: v1, model: m1, weight: 70 }, { name: v2, model: m2, weight: 30 }]
  metrics:
    primary: ${primary}
    model: { task: classification }
${extra}`,
    'ckpt.yaml',
  );
}

const reference = (random: () => number): ReferenceData => ({
  columns: ['age', 'plan'],
  rows: Array.from({ length: 300 }, () => ({
    age: 40 + 10 * random(),
    plan: random() < 0.5 ? 'gold' : 'basic',
  })),
});

interface Config {
  name: string;
  experiment: Experiment;
  options: ReportBuilderOptions;
  sticky: boolean;
}

const configs = (): Config[] => [
  {
    name: 'proportion, mirror, drift, model metrics, debug headers',
    experiment: experiment(
      `  routing:
    mirror: { variant: shadow, model: m3 }
    debugHeaders: [x-debug]
  drift: { reference: ref.csv, window: 40 }`,
      '{ name: conversion, kind: proportion }',
    ),
    options: {
      reference: reference(seededRandom(1)),
      idMemory: 64,
      agreementMemory: 32,
      bucketMs: 50,
      maxBuckets: 8,
    },
    sticky: false,
  },
  {
    name: 'continuous, sticky users, attribution window',
    experiment: experiment(
      `  routing: { sticky: { header: x-user } }`,
      '{ name: conversion, kind: continuous, window: 40ms }',
    ),
    options: {
      idMemory: 50,
      unitMemory: { users: 20, requests: 40, pending: 30 },
      bucketMs: 30,
      maxBuckets: 5,
    },
    sticky: true,
  },
  {
    name: 'proportion, request attribution window, one run',
    experiment: experiment('', '{ name: conversion, kind: proportion, window: 25ms }'),
    options: { run: 'r1', idMemory: 40, unitMemory: { pending: 20 } },
    sticky: false,
  },
];

/** A random stream: requests of every assignment, feedback, labels, weights, rollouts and runs. */
function stream(seed: number, sticky: boolean, length: number): ExperimentEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const events: ExperimentEvent[] = [];
  const ids: string[] = [];
  let ts = T0;
  let run: string | undefined;
  for (let i = 0; i < length; i++) {
    ts += Math.floor(random() * 4) - (random() < 0.05 ? 10 : 0); // a few late lines
    const r = random();
    const experiment = random() < 0.03 ? 'other' : NAME;
    if (r < 0.5) {
      const id = `${seed}-${i}`;
      const a = random();
      const assignment =
        a < 0.75 ? (sticky ? 'sticky' : 'weighted') : a < 0.85 ? 'forced' : a < 0.92 ? 'debug' : 'shadow';
      const variant = assignment === 'shadow' ? 'shadow' : random() < 0.6 ? 'v1' : 'v2';
      if (assignment !== 'shadow') ids.push(id);
      events.push({
        type: 'request',
        id: assignment === 'shadow' ? (ids.at(-2) ?? id) : id,
        ts,
        experiment,
        variant,
        latencyMs: random() * 100,
        status: random() < 0.05 ? 503 : 200,
        assignment,
        ...(assignment === 'shadow' ? { shadow: true } : {}),
        ...(assignment === 'debug' ? { debugHeader: 'x-debug' } : {}),
        ...(sticky && assignment === 'sticky' ? { user: `u${Math.floor(random() * 30)}` } : {}),
        ...(run && random() < 0.9 ? { run } : {}),
        ...(random() < 0.8
          ? { inputs: { age: 40 + 15 * random(), plan: pick(['gold', 'basic', 'silver']) } }
          : {}),
        outputs: { predict: random() < 0.5 ? 1 : 0, proba: random() },
        ...(random() < 0.1 ? { protocol: 'grpc' as const } : {}),
        ...(random() < 0.1 ? { steps: [{ name: 'pre', latencyMs: random() * 5, status: 200 }] } : {}),
      });
    } else if (r < 0.8) {
      const id =
        random() < 0.05
          ? `unknown-${i}`
          : (ids.at(-1 - Math.floor(random() * Math.min(ids.length, 60))) ?? 'none');
      events.push({
        type: 'feedback',
        id,
        ts,
        experiment,
        metric: random() < 0.8 ? 'conversion' : 'revenue',
        value: random() < 0.5 ? 1 : random() < 0.5 ? 0 : 10 * random(),
        ...(random() < 0.5 ? { variant: random() < 0.6 ? 'v1' : 'v2' } : {}),
        ...(run && random() < 0.8 ? { run } : {}),
      });
    } else if (r < 0.92) {
      const id = ids.at(-1 - Math.floor(random() * Math.min(ids.length, 60))) ?? 'none';
      events.push({
        type: 'label',
        id,
        ts,
        experiment,
        label: random() < 0.5 ? 1 : 0,
        ...(run ? { run } : {}),
      });
    } else if (r < 0.96) {
      const w = Math.floor(random() * 100);
      events.push({ type: 'weights', ts, experiment, weights: { v1: 100 - w, v2: w }, source: 'api' });
    } else if (r < 0.98) {
      events.push({
        type: 'rollout',
        ts,
        experiment,
        action: 'evaluate',
        state: { phase: 'running', step: Math.floor(random() * 4) } as never,
      });
    } else if (r < 0.99) {
      run = run === undefined ? 'r1' : `r${Number(run.slice(1)) + 1}`;
      events.push({ type: 'run', ts, experiment: NAME, run, reason: 'test', weights: { v1: 50, v2: 50 } });
    } else {
      events.push({
        type: 'detector',
        ts,
        experiment,
        detector: 'mmd',
        variant: 'v2',
        rows: 10,
        from: ts - 5,
        to: ts,
      });
    }
  }
  return events;
}

describe('checkpoints of the report builder', function () {
  this.timeout(120_000);

  for (const config of configs()) {
    it(`restore(checkpoint after k events) + the rest = all events, at random k: ${config.name}`, () => {
      let splits = 0;
      let bytes = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const events = stream(seed * 7919, config.sticky, 1_500);
        const now = events.reduce((m, e) => Math.max(m, e.ts), 0) + 1;
        const whole = new ReportBuilder(config.experiment, config.options);
        for (const e of events) whole.ingest(e);
        const expected = whole.report(now);
        const random = seededRandom(seed);
        const cuts = [
          0,
          events.length,
          ...Array.from({ length: 4 }, () => Math.floor(random() * events.length)),
        ];
        for (const k of cuts) {
          const first = new ReportBuilder(config.experiment, config.options);
          for (const e of events.slice(0, k)) first.ingest(e);
          const text = JSON.stringify(checkpointBuilder(first, config.options));
          bytes += text.length;
          const restored = restoreBuilder(
            config.experiment,
            config.options,
            JSON.parse(text) as BuilderCheckpoint,
          );
          assert.deepEqual(
            restored.report(now),
            first.report(now),
            `seed ${seed}: the restored state at k=${k}`,
          );
          for (const e of events.slice(k)) restored.ingest(e);
          assert.deepEqual(restored.report(now), expected, `seed ${seed}: restore at k=${k} then the rest`);
          // The builder it was taken from goes on unchanged by the checkpoint.
          for (const e of events.slice(k)) first.ingest(e);
          assert.deepEqual(first.report(now), expected);
          splits++;
        }
      }
      console.log(
        `      ${splits} split points over 12 seeded streams equal; mean checkpoint ${Math.round(bytes / splits / 1024)} KiB`,
      );
    });
  }

  it('refuses a checkpoint of a changed experiment, with a reason', () => {
    const [a, b] = configs();
    const builder = new ReportBuilder(a!.experiment, a!.options);
    for (const e of stream(5, false, 200)) builder.ingest(e);
    const checkpoint = checkpointBuilder(builder, a!.options);
    assert.throws(
      () => restoreBuilder(b!.experiment, b!.options, checkpoint),
      (err: unknown) => err instanceof CheckpointCodecError && /experiment changed/.test(err.message),
    );
    const edited = { ...a!.options, bucketMs: 99 };
    assert.throws(() => restoreBuilder(a!.experiment, edited, checkpoint), CheckpointCodecError);
    const torn = { ...checkpoint, state: { $: 'o', i: 0, c: 'NoSuchClass', p: {} } } as BuilderCheckpoint;
    assert.throws(
      () => restoreBuilder(a!.experiment, a!.options, torn),
      (err: unknown) => err instanceof CheckpointCodecError && /unknown class NoSuchClass/.test(err.message),
    );
  });
});
