import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Report } from '../../src/shared/report';
import type { ExperimentEvent } from '../../src/shared/events';
import { simulate } from '../../src/simulator/simulator';
import { readEvents } from '../harness/routerClient';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';

// #15 item 5: the simulator can send conversions late, as real ones come, and the router's
// report then shows units pending inside their attribution window and maturing after it.
describe('simulator: feedback with a delay, through the real router', function () {
  this.timeout(60_000);
  let arms: TwoArmRouter;

  before(async () => {
    arms = await startTwoArmRouter({
      name: 'delay',
      weights: [50, 50],
      metric: { name: 'conversion', kind: 'proportion', window: '3s' },
    });
  });

  after(async () => {
    await arms?.stop();
  });

  const data = {
    columns: ['user_id', 'x', 'converted'],
    rows: Array.from({ length: 300 }, (_, i) => ({ user_id: `u${i}`, x: i % 7, converted: i % 2 })),
  };

  /** Feedback delay per request (feedback ts − request ts), from the log. */
  function delays(events: ExperimentEvent[], since: number, until = Infinity): number[] {
    const requests = new Map<string, number>();
    for (const e of events) if (e.type === 'request') requests.set(e.id, e.ts);
    const out: number[] = [];
    for (const e of events)
      if (e.type === 'feedback' && e.ts >= since && e.ts < until) out.push(e.ts - requests.get(e.id)!);
    return out.sort((a, b) => a - b);
  }

  it('spreads feedback over the delay it is given, and the report counts units as they mature', async () => {
    const run = (feedbackDelayMs?: number) =>
      simulate({
        routerUrl: arms.router.url,
        experiment: 'delay',
        endpoint: 'delay',
        data,
        metric: 'conversion',
        requests: 300,
        rps: 300,
        seed: 5,
        ...(feedbackDelayMs ? { feedbackDelayMs } : {}),
      });
    const start = Date.now();
    const prompt = await run();
    assert.equal(prompt.feedbackSent, 300, prompt.firstError);
    const middle = Date.now();
    const late = await run(2_000);
    assert.equal(late.feedbackSent, 300, late.firstError);
    const events = readEvents(join(arms.dir, 'data'));
    const before = delays(events, start, middle);
    const after = delays(events, middle);
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
    console.log(
      `      feedback delay: median ${median(before)} ms at once, ${median(after)} ms with up to 2 s`,
    );
    // Drawn uniformly over [0, 2000] ms (median 1 s), on top of the request's latency and a 250 ms
    // flush, which vary by a few hundred ms on a busy machine.
    assert.ok(median(after) - median(before) > 600, `median ${median(after)} vs ${median(before)}`);
    assert.ok(after.at(-1)! > 1_500, `longest delay ${after.at(-1)}`);

    const report = (await (
      await arms.client.send('GET', '/api/v1/experiments/delay/report')
    ).json()) as Report;
    const a = report.attribution!;
    assert.equal(a.rule, 'window');
    const matured = a.variants!.v1!.matured + a.variants!.v2!.matured;
    const pending = a.variants!.v1!.pending + a.variants!.v2!.pending;
    console.log(`      attribution: ${matured} matured, ${pending} pending`);
    assert.equal(matured + pending, 600);
    // The first run's units matured during the second; the second's last are still pending.
    assert.ok(matured >= 150 && pending > 0, JSON.stringify(a.variants));
  });
});
