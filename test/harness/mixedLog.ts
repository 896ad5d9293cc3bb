/**
 * A seeded event log holding every event type the router writes (two runs of the propensity
 * sample experiment; requests weighted, sticky, forced, debug, shadow, gRPC, with steps and
 * errors; feedback with and without a variant; labels; weights; rollouts; alerts; detector
 * verdicts; a type from a newer router) and the lines a log can go wrong with: not JSON, JSON
 * that is not an event, CRLF and lone CR line breaks, blank lines, non-ASCII text and a last
 * line without a line break. For tests that compare two ways of reading one log.
 */
import { seededRandom } from '../../src/core/stats/random';

export function mixedLog(events: number, seed = 1): string {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const lines: string[] = [];
  const experiment = 'propensity';
  let ts = 1_764_000_000_000;
  const run = (id: string): void => {
    lines.push(
      JSON.stringify({ type: 'run', ts, experiment, run: id, reason: 'deploy', weights: { v1: 90, v2: 10 } }),
    );
  };
  run('r1');
  for (let i = 0; lines.length < events; i++) {
    ts += Math.floor(random() * 40);
    if (i === Math.floor(events / 2)) run('r2');
    const id = `req-${i}`;
    const variant = random() < 0.9 ? 'v1' : 'v2';
    const r = random();
    const assignment = r < 0.6 ? 'sticky' : r < 0.8 ? 'weighted' : r < 0.9 ? 'forced' : 'debug';
    lines.push(
      JSON.stringify({
        type: 'request',
        id,
        ts,
        experiment,
        variant,
        latencyMs: 2 + 30 * random() ** 3,
        status: random() < 0.02 ? 503 : 200,
        assignment,
        ...(assignment === 'sticky' ? { user: `u${Math.floor(random() * 400)}` } : {}),
        ...(assignment === 'debug' ? { debugHeader: 'x-debug' } : {}),
        ...(random() < 0.5 ? { run: i < events / 2 ? 'r1' : 'r2' } : {}),
        ...(random() < 0.1 ? { protocol: 'grpc' } : {}),
        inputs: {
          age: 20 + Math.floor(random() * 50),
          tenure_months: Math.floor(random() * 120),
          sessions_30d: Math.floor(random() * 30),
          basket_value: Math.round(random() * 9000) / 100,
          channel: pick(['web', 'app', 'email', 'störe']),
          region: pick(['east', 'west']),
        },
        outputs: { predict: random() < 0.3 ? 1 : 0, proba: random() },
        ...(random() < 0.05 ? { steps: [{ name: 'pre', latencyMs: 1, status: 200 }] } : {}),
      }),
    );
    if (random() < 0.3)
      lines.push(
        JSON.stringify({
          type: 'request',
          id,
          ts,
          experiment,
          variant: 'v3',
          latencyMs: 3,
          status: 200,
          shadow: true,
          assignment: 'shadow',
          outputs: { predict: random() < 0.3 ? 1 : 0, proba: random() },
        }),
      );
    if (random() < 0.5)
      lines.push(
        JSON.stringify({
          type: 'feedback',
          id: random() < 0.97 ? id : `unknown-${i}`,
          ts: ts + Math.floor(random() * 8000),
          experiment,
          metric: 'conversion',
          value: random() < 0.2 ? 1 : 0,
          ...(random() < 0.5 ? { variant } : {}),
        }),
      );
    if (random() < 0.3)
      lines.push(
        JSON.stringify({ type: 'label', id, ts: ts + 1, experiment, label: random() < 0.3 ? 1 : 0 }),
      );
    const rare = random();
    if (rare < 0.002)
      lines.push(
        JSON.stringify({ type: 'weights', ts, experiment, weights: { v1: 80, v2: 20 }, source: 'api' }),
      );
    else if (rare < 0.004)
      lines.push(
        JSON.stringify({
          type: 'alert',
          ts,
          experiment,
          webhook: 'ops',
          format: 'slack',
          status: 'firing',
          keys: ['k'],
          outcome: 'delivered',
          attempts: 1,
        }),
      );
    else if (rare < 0.006)
      lines.push(
        JSON.stringify({
          type: 'detector',
          ts,
          experiment,
          detector: 'ks',
          variant,
          rows: 10,
          from: ts - 10,
          to: ts,
          result: { drift: true, pValue: 0.01 },
        }),
      );
    else if (rare < 0.008) lines.push(JSON.stringify({ type: 'futureThing', ts, experiment }));
    else if (rare < 0.01) lines.push(pick(BAD));
    else if (rare < 0.012) lines.push(pick(['', '   ', '\t']));
    else if (rare < 0.013)
      lines.push(
        JSON.stringify({ type: 'feedback', id, ts, experiment, metric: 'conversion', value: 1 }) + '\r',
      );
    else if (rare < 0.014)
      lines.push(
        `${JSON.stringify({ type: 'label', id, ts, experiment, label: 1 })}\r${JSON.stringify({ type: 'label', id, ts, experiment, label: 0 })}`,
      );
    else if (rare < 0.015)
      lines.push(
        JSON.stringify({
          type: 'rollout',
          ts,
          experiment,
          action: 'evaluate',
          state: {
            state: 'running',
            baseline: 'v1',
            candidate: 'v2',
            stepIndex: 0,
            steps: [5, 50, 100],
            stepStartedAt: ts,
            stepStartRequests: 0,
            awaitingApproval: false,
            approved: false,
            reason: '',
            gates: [],
            history: [],
          },
        }),
      );
  }
  // The last line without its line break (a torn write).
  return `${lines.join('\n')}\n{"type":"request","id":"torn","ts":${ts},"experiment":"propensity","variant":"v1","latencyMs":1,"status":200}`;
}

/** Lines that are not events. */
const BAD = [
  '{"type":"request","id":',
  'null',
  '[1,2]',
  '"text"',
  '{"type":"request","ts":1,"experiment":"propensity","variant":"v1","latencyMs":1,"status":200}',
  '{"type":"request","id":"x","ts":1,"experiment":"propensity","variant":"v1","latencyMs":-1,"status":200}',
  '{"type":"request","id":"x","ts":1,"experiment":"propensity","variant":"v1","latencyMs":1,"status":200,"user":""}',
  '{"type":"weights","ts":1,"experiment":"propensity","weights":null}',
  '{"type":"feedback","id":"x","ts":1,"experiment":"propensity","metric":"conversion","value":"1"}',
  '{"type":"request","id":"x","ts":1e400,"experiment":"propensity","variant":"v1","latencyMs":1,"status":200}',
  ' {"type":"label","id":"x","ts":1,"experiment":"propensity","label":1}',
  '{"ts":1,"experiment":"propensity"}',
];
