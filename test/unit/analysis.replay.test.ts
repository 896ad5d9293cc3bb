import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseExperiment } from '../../src/core/spec/experiment';
import type { ExperimentEvent } from '../../src/shared/events';
import { seededRandom } from '../../src/core/stats/random';

// #15 item 9, one answer from every path: the always-valid test's running minimum depends on
// the log alone, so a report builder that was asked for reports all along (the live router, its
// dashboard and rollout gates) and one that reads the finished log once (`analyze`, or a router
// restarted from its log) give the same p-value, interval and decision.

const experiment = (kind: 'proportion' | 'continuous', window?: string) =>
  parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: replay }
spec:
  endpoint: replay
  variants: [{ name: v1, model: m1, weight: 50 }, { name: v2, model: m2, weight: 50 }]
  metrics: { primary: { name: outcome, kind: ${kind}${window ? `, window: ${window}` : ''} } }
`,
    'replay.yaml',
  );

/** A log of `requests` requests at 50/50; outcomes arrive a few requests later (feedback is delayed). */
function makeLog(seed: number, kind: 'proportion' | 'continuous', requests: number): ExperimentEvent[] {
  const random = seededRandom(seed);
  // Borderline lifts, so decisions near the threshold occur in many runs.
  const lift = 1 + (kind === 'proportion' ? 0.4 : 0.15) * random();
  const events: ExperimentEvent[] = [];
  const pending: { id: string; value: number; due: number }[] = [];
  let ts = 1_764_000_000_000;
  for (let i = 0; i < requests; i++) {
    const variant = random() < 0.5 ? 'v1' : 'v2';
    const id = `${seed}-${i}`;
    events.push({ type: 'request', id, ts: ts++, experiment: 'replay', variant, latencyMs: 3, status: 200 });
    const factor = variant === 'v2' ? lift : 1;
    const value =
      kind === 'proportion' ? (random() < 0.1 * factor ? 1 : 0) : -Math.log(1 - random()) * 20 * factor;
    if (value !== 0) pending.push({ id, value, due: i + Math.floor(random() * 50) });
    while (pending.length && pending[0]!.due <= i) {
      const f = pending.shift()!;
      events.push({
        type: 'feedback',
        id: f.id,
        ts: ts++,
        experiment: 'replay',
        metric: 'outcome',
        value: f.value,
      });
    }
  }
  return events;
}

describe('one answer from every path: the sequential state replays from the log', function () {
  this.timeout(60_000);

  // With an attribution window the units mature on the log's clock (feedback comes 0–100 ms after
  // its request here, so a 60ms window makes some of it late), and each matured unit is a look.
  const cases = [
    { kind: 'proportion', window: undefined },
    { kind: 'continuous', window: undefined },
    { kind: 'proportion', window: '60ms' },
  ] as const;
  for (const { kind, window } of cases) {
    const named = window ? `${kind} (${window} attribution window)` : kind;
    it(`gives the live builder, a restarted one and analyze the same ${named} decisions in 100 seeded runs`, () => {
      const random = seededRandom(kind.length);
      const exp = experiment(kind, window);
      let decided = 0;
      for (let run = 0; run < 100; run++) {
        const events = makeLog(1000 * kind.length + run, kind, 5_000);
        const end = events.at(-1)!.ts;
        // Live: reports asked for at random moments, as the dashboard and the rollout gates do.
        const live = new ReportBuilder(exp);
        // Restarted halfway: the first process looked too; the new one replays the whole log.
        const restart = Math.floor(events.length / 2);
        const first = new ReportBuilder(exp);
        events.forEach((e, i) => {
          live.ingest(e);
          if (random() < 0.02) live.report(e.ts);
          if (i < restart) {
            first.ingest(e);
            if (random() < 0.02) first.report(e.ts);
          }
        });
        const restarted = new ReportBuilder(exp);
        for (const e of events) restarted.ingest(e);
        // analyze: one pass over the log, one report as of its last event.
        const offline = new ReportBuilder(exp);
        for (const e of events) offline.ingest(e);

        const liveReport = live.report(end);
        const a = JSON.stringify(liveReport.comparisons);
        assert.equal(JSON.stringify(restarted.report(end).comparisons), a, `run ${run}: restarted router`);
        assert.equal(JSON.stringify(offline.report(end).comparisons), a, `run ${run}: analyze`);
        const c = liveReport.comparisons[0]!;
        if (c.decision === 'promote' || c.decision === 'rollback') decided++;
      }
      console.log(
        `      ${named}: the three paths agree in 100 of 100 runs; ${decided} decided promote or rollback`,
      );
      assert.ok(
        decided > 10 && decided < 90,
        `decisions in ${decided} of 100 runs: the lifts are not borderline`,
      );
    });
  }
});
