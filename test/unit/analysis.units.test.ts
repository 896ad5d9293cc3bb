import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { srmGate } from '../../src/core/rollout/gates';
import { parseExperiment } from '../../src/core/spec/experiment';
import { Split, stickyUser } from '../../src/router/routing';
import type { ExperimentEvent, RequestEvent } from '../../src/shared/events';
import { seededRandom, standardNormal } from '../../src/core/stats/random';

// #15 item 4, users as the unit: with a sticky key a user is randomised once, so its requests
// are not independent draws. A few hundred users replayed many times make the request-level
// chi-square fire on a perfectly good split (a rollout paused on "sample-ratio mismatch
// (p = 7.1e-4)" on a real cluster this way); the SRM on users holds its level, and still finds
// a real mismatch.

const experiment = (sticky: boolean, kind: 'proportion' | 'continuous' = 'proportion') =>
  parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: units }
spec:
  endpoint: units
  variants: [{ name: v1, model: m1, role: baseline, weight: 95 }, { name: v2, model: m2, weight: 5 }]
${sticky ? '  routing: { sticky: { header: x-user-id } }\n' : ''}  metrics: { primary: { name: conversion, kind: ${kind} } }
`,
    'units.yaml',
  );

interface Simulation {
  users: number;
  requests: number;
  /** Weights before and after the ramp halfway through. */
  ramp: [number, number][];
  /** Share of the canary's users whose requests never reach the log (a variant failing before it records). */
  lostCanaryUsers?: number;
  /** Conversion per request: each user has its own propensity (heterogeneous users). */
  conversion?: number;
}

/** A seeded log: users with heavy-tailed activity, routed by the router's own sticky hash and split. */
function simulate(seed: number, sim: Simulation): ExperimentEvent[] {
  const random = seededRandom(seed);
  const users = Array.from({ length: sim.users }, (_, i) => {
    const hashed = stickyUser('units', `user-${seed}-${i}`);
    return {
      ...hashed,
      activity: Math.exp(1.5 * standardNormal(random)),
      propensity: Math.min(0.9, (sim.conversion ?? 0.1) * Math.exp(standardNormal(random) - 0.5)),
      lost: random() < (sim.lostCanaryUsers ?? 0),
    };
  });
  const cumulative: number[] = [];
  users.reduce((sum, u) => (cumulative.push(sum + u.activity), sum + u.activity), 0);
  const totalActivity = cumulative.at(-1)!;
  const events: ExperimentEvent[] = [];
  let ts = 1_764_000_000_000;
  let split = new Split([]);
  const setWeights = ([w1, w2]: [number, number]) => {
    split = new Split([
      { name: 'v1', weight: w1 },
      { name: 'v2', weight: w2 },
    ]);
    events.push({ type: 'weights', ts: ts++, experiment: 'units', weights: { v1: w1, v2: w2 } });
  };
  setWeights(sim.ramp[0]!);
  for (let i = 0; i < sim.requests; i++) {
    if (i === Math.floor(sim.requests / 2) && sim.ramp[1]) setWeights(sim.ramp[1]);
    // The same users come back again and again, the busiest far more often.
    const r = random() * totalActivity;
    let lo = 0;
    let hi = users.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    const user = users[lo]!;
    const variant = split.indexAt(user.point) === 0 ? 'v1' : 'v2';
    if (variant === 'v2' && user.lost) continue;
    const id = `${seed}-${i}`;
    const request: RequestEvent = {
      type: 'request',
      id,
      ts: ts++,
      experiment: 'units',
      variant,
      latencyMs: 3,
      status: 200,
      assignment: 'sticky',
      user: user.user,
    };
    events.push(request);
    if (random() < user.propensity)
      events.push({ type: 'feedback', id, ts: ts++, experiment: 'units', metric: 'conversion', value: 1 });
  }
  return events;
}

function reportOf(events: ExperimentEvent[], sticky: boolean, options = {}) {
  const builder = new ReportBuilder(experiment(sticky), options);
  for (const e of events) builder.ingest(e);
  return builder.report(events.at(-1)!.ts);
}

const rate = (hits: number, runs: number) => `${((100 * hits) / runs).toFixed(1)}%`;

/** A sticky request of the `units` experiment, answered 200. */
const stickyRequest = (id: string, variant: string, user: string, ts = 1_764_000_000_000): RequestEvent => ({
  type: 'request',
  id,
  ts,
  experiment: 'units',
  variant,
  latencyMs: 1,
  status: 200,
  assignment: 'sticky',
  user,
});

describe('users as the unit of analysis with a sticky key', function () {
  this.timeout(120_000);

  it('the SRM on users holds its level where the request-level chi-square fires, through a 5% → 25% ramp, and the rollout gate follows it (200 seeded A/A runs)', () => {
    const runs = 200;
    let requestAt001 = 0;
    let requestAt05 = 0;
    let usersAt001 = 0;
    let usersAt05 = 0;
    let gatePaused = 0;
    let requestGatePaused = 0;
    for (let run = 0; run < runs; run++) {
      const events = simulate(10_000 + run, {
        users: 400,
        requests: 4_000,
        ramp: [
          [95, 5],
          [75, 25],
        ],
      });
      const report = reportOf(events, true);
      assert.equal(report.srm.unit, 'user');
      const requestP = report.srm.requestLevel!.pValue;
      if (requestP < 0.001) requestAt001++;
      if (requestP < 0.05) requestAt05++;
      if (report.srm.pValue < 0.001) usersAt001++;
      if (report.srm.pValue < 0.05) usersAt05++;
      if (!srmGate(report).gate.ok) gatePaused++;
      // The same log read without the sticky key: requests as the unit, as before.
      if (!srmGate(reportOf(events, false)).gate.ok) requestGatePaused++;
      assert.equal(report.units?.unexplainedCrossovers, 0, `run ${run}: a ramp explains every crossover`);
    }
    console.log(
      `      SRM under 400 repeated users (4,000 requests, ramp 5% → 25%), ${runs} A/A runs: ` +
        `request-level p < 0.001 in ${rate(requestAt001, runs)}, p < 0.05 in ${rate(requestAt05, runs)}; ` +
        `users p < 0.001 in ${rate(usersAt001, runs)}, p < 0.05 in ${rate(usersAt05, runs)}; ` +
        `rollout gate paused ${rate(gatePaused, runs)} on users, ${rate(requestGatePaused, runs)} on requests`,
    );
    // 200 runs estimate a 5% rate to about ±1.5 points.
    assert.ok(usersAt05 / runs <= 0.09, `users: p < 0.05 in ${rate(usersAt05, runs)}, nominal 5%`);
    assert.ok(usersAt001 / runs <= 0.02, `users: p < 0.001 in ${rate(usersAt001, runs)}, nominal 0.1%`);
    assert.ok(gatePaused <= usersAt001, 'the rollout gate pauses only on the SRM of users');
    // The harness can tell the two apart: requests of repeated users are not independent trials.
    assert.ok(requestAt001 / runs >= 0.3, `request-level p < 0.001 in only ${rate(requestAt001, runs)}`);
    assert.ok(
      requestGatePaused >= 0.3 * runs,
      `request-level gate paused in ${rate(requestGatePaused, runs)}`,
    );
  });

  it('finds a real mismatch on users: a canary that loses a quarter of its users before they are recorded (50 seeded runs)', () => {
    const runs = 50;
    let found = 0;
    let paused = 0;
    for (let run = 0; run < runs; run++) {
      const events = simulate(20_000 + run, {
        users: 4_000,
        requests: 12_000,
        ramp: [[75, 25]],
        lostCanaryUsers: 0.25,
      });
      const report = reportOf(events, true);
      if (report.srm.mismatch) found++;
      const gate = srmGate(report);
      if (!gate.gate.ok) {
        paused++;
        assert.match(gate.stopReason!, /on users/);
      }
    }
    console.log(`      SRM on users finds a canary losing 25% of its users in ${found} of ${runs} runs`);
    assert.ok(found >= 0.9 * runs, `found in ${found} of ${runs}`);
    assert.equal(paused, found);
  });

  it('counts conversion per user, reports the per-request rate with a delta-method interval, and says the unit', () => {
    const events = simulate(7, { users: 300, requests: 3_000, ramp: [[50, 50]], conversion: 0.05 });
    const report = reportOf(events, true);
    const c = report.comparisons[0]!;
    assert.equal(c.unit, 'user');
    // Conversion per user, counted by hand: a user converted when any of its requests did.
    const converted = new Map<string, boolean>();
    const byId = new Map<string, RequestEvent>();
    for (const e of events) {
      if (e.type === 'request') {
        byId.set(e.id, e);
        if (!converted.has(e.user!)) converted.set(e.user!, false);
      } else if (e.type === 'feedback') converted.set(byId.get(e.id)!.user!, true);
    }
    const usersOf = (variant: string) => [...byId.values()].filter((e) => e.variant === variant);
    const rateOf = (variant: string) => {
      const users = new Set(usersOf(variant).map((e) => e.user!));
      return [...users].filter((u) => converted.get(u)).length / users.size;
    };
    assert.equal(report.variants[0]!.users, new Set(usersOf('v1').map((e) => e.user)).size);
    assert.ok(Math.abs(c.baselineRate - rateOf('v1')) < 1e-12);
    assert.ok(Math.abs(c.variantRate - rateOf('v2')) < 1e-12);
    // Per request, with an interval wider than the i.i.d. one would be.
    const pr = c.perRequest!;
    const conversions = (variant: string) =>
      events.filter((e) => e.type === 'feedback' && byId.get(e.id)!.variant === variant).length;
    assert.ok(Math.abs(pr.baselineRate - conversions('v1') / usersOf('v1').length) < 1e-12);
    const nb = usersOf('v1').length;
    const nv = usersOf('v2').length;
    const iid =
      1.96 *
      Math.sqrt(
        (pr.baselineRate * (1 - pr.baselineRate)) / nb + (pr.variantRate * (1 - pr.variantRate)) / nv,
      );
    assert.ok(
      pr.ci95[1] - pr.ci95[0] > 2 * iid * 1.2,
      'the delta-method interval accounts for repeated users',
    );
    assert.equal(report.units?.unit, 'user');
    assert.equal(report.units?.key, 'x-user-id');
    // Without a sticky key the report says the unit is the request.
    const plain = reportOf(events, false);
    assert.equal(plain.srm.unit, 'request');
    assert.equal(plain.comparisons[0]!.unit, 'request');
    assert.equal(plain.units?.unit, 'request');
  });

  it('reports users who changed arm while the weights stayed the same, and leaves their requests out of the A/B', () => {
    const exp = experiment(true);
    const builder = new ReportBuilder(exp);
    const request = stickyRequest;
    builder.ingest(request('a1', 'v1', 'alice'));
    builder.ingest(request('b1', 'v1', 'bob'));
    builder.ingest({
      type: 'weights',
      ts: 1_764_000_000_001,
      experiment: 'units',
      weights: { v1: 50, v2: 50 },
    });
    builder.ingest(request('b2', 'v2', 'bob', 1_764_000_000_002)); // moved by the ramp
    builder.ingest(request('a2', 'v1', 'alice', 1_764_000_000_003));
    builder.ingest(request('a3', 'v2', 'alice', 1_764_000_000_004)); // same weights, other arm: broken stickiness
    builder.ingest({
      type: 'feedback',
      id: 'a3',
      ts: 1,
      experiment: 'units',
      metric: 'conversion',
      value: 1,
    });
    const report = builder.report(1_764_000_000_002);
    assert.deepEqual(
      {
        crossovers: report.units!.crossovers,
        unexplained: report.units!.unexplainedCrossovers,
        requests: report.units!.crossoverRequests,
      },
      { crossovers: 2, unexplained: 1, requests: 2 },
    );
    assert.deepEqual(
      report.variants.map((v) => [v.requests, v.users]),
      [
        [3, 2],
        [2, 0],
      ],
    );
    // Alice's conversion in v2 is not credited to either arm's users.
    assert.equal(report.comparisons[0]!.baselineRate, 0);
  });

  it('does not call a ramp broken stickiness when a request routed before the change is logged after it', () => {
    const builder = new ReportBuilder(experiment(true));
    const request = (id: string, variant: string, ts: number) => stickyRequest(id, variant, 'carol', ts);
    builder.ingest(request('c1', 'v1', 1_764_000_000_000));
    builder.ingest({
      type: 'weights',
      ts: 1_764_000_000_010,
      experiment: 'units',
      weights: { v1: 50, v2: 50 },
    });
    builder.ingest(request('c3', 'v2', 1_764_000_000_020)); // routed under the new weights
    builder.ingest(request('c2', 'v1', 1_764_000_000_005)); // routed under the old ones, a slow answer
    builder.ingest(request('c4', 'v2', 1_764_000_000_030));
    const units = builder.report(1_764_000_000_040).units!;
    assert.equal(units.crossovers, 1);
    assert.equal(units.unexplainedCrossovers, 0);
  });

  it('keeps memory bounded: the oldest idle users are dropped, counted, and count again when they return', () => {
    const events = simulate(3, { users: 2_000, requests: 6_000, ramp: [[50, 50]] });
    const bounded = reportOf(events, true, { unitMemory: { users: 200, requests: 500 } });
    const full = reportOf(events, true);
    assert.ok(bounded.units!.evicted > 0);
    assert.equal(full.units!.evicted, 0);
    assert.equal(bounded.units!.memory, 200);
    // A returning evicted user is a new unit: at most one extra unit per eviction.
    assert.ok(bounded.units!.users > full.units!.users);
    assert.ok(bounded.units!.users - full.units!.users <= bounded.units!.evicted);
  });

  it('replays: a live builder asked for reports along the way, and one pass over the log, give the same user-level report', () => {
    for (const kind of ['proportion', 'continuous'] as const) {
      const events = simulate(11, { users: 500, requests: 8_000, ramp: [[50, 50]], conversion: 0.2 });
      const random = seededRandom(5);
      const live = new ReportBuilder(experiment(true, kind));
      for (const e of events) {
        live.ingest(e);
        if (random() < 0.01) live.report(e.ts);
      }
      const offline = new ReportBuilder(experiment(true, kind));
      for (const e of events) offline.ingest(e);
      const end = events.at(-1)!.ts;
      const a = live.report(end);
      const b = offline.report(end);
      assert.equal(JSON.stringify(b.comparisons), JSON.stringify(a.comparisons), kind);
      assert.deepEqual(b.srm, a.srm);
      assert.ok(Number.isFinite(a.comparisons[0]!.sequentialPValue));
    }
  });
});
