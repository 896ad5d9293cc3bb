import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Report } from '../../src/shared/report';
import { inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { REPO_ROOT } from '../harness/tools';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';
import { seededRandom } from '../../src/core/stats/random';

const CLI = join(REPO_ROOT, 'dist/cli.js');

// #15 item 9: the live router, the same router restarted from its log, and `model-canary
// analyze` on that log give the same report and the same decision. With an attribution window
// (item 5) units mature on the log's clock, so the same holds.
for (const window of [undefined, '400ms'])
  describe(`router: one answer from every path (real router process, restart, analyze CLI${window ? `, ${window} attribution window` : ''})`, function () {
    let arms: TwoArmRouter;

    before(async () => {
      arms = await startTwoArmRouter({
        name: 'replay',
        weights: [50, 50],
        metric: { name: 'revenue', kind: 'continuous', ...(window ? { window } : {}) },
      });
    });

    after(async () => {
      await arms?.stop();
    });

    it('gives the same report and decision live, after a restart, and from analyze on the log', async () => {
      const random = seededRandom(9);
      const report = async (now?: number): Promise<Report> =>
        (
          await arms.client.send('GET', `/api/v1/experiments/replay/report${now ? `?now=${now}` : ''}`)
        ).json() as Report;
      // Revenue per request, 12% higher on v2, while the dashboard polls. Each answer's revenue is
      // posted as soon as it comes, so it lands within the window however long a batch takes on a
      // busy machine (posted after its batch, early requests matured without it under load).
      for (let batch = 0; batch < 8; batch++) {
        await inParallel(500, 16, async () => {
          const res = await arms.client.infer('replay', simpleRequest());
          assert.equal(res.status, 200);
          const variant = String(res.headers['x-model-canary-variant']);
          const fb = await arms.client.send('POST', '/api/v1/experiments/replay/feedback', {
            requestId: String(res.headers['x-request-id']),
            metric: 'revenue',
            value: -Math.log(1 - random()) * 20 * (variant === 'v2' ? 1.12 : 1),
          });
          assert.equal(fb.status, 202, fb.text);
        });
        for (let poll = 0; poll < 5; poll++) await report();
      }
      const data = join(arms.dir, 'data');
      const end = Math.max(...readEvents(data).map((e) => e.ts));
      const live = await report(end);
      assert.ok(live.comparisons[0]!.sequentialPValue < 1, 'the always-valid test has started');

      await arms.restart(4);
      const restarted = await report(end);

      const segments = readdirSync(data).filter((f) => /^events-\d+\.jsonl$/.test(f));
      assert.equal(segments.length, 1, 'one segment holds the log');
      const analyzed = await execa(
        'node',
        [CLI, 'analyze', '--events', join(data, segments[0]!), '--experiment', arms.experimentFile, '--json'],
        { reject: false },
      );
      assert.equal(analyzed.exitCode, 0, analyzed.stderr);
      const offline = JSON.parse(analyzed.stdout) as Report & { malformedLines: { count: number } };
      assert.equal(offline.malformedLines.count, 0, analyzed.stderr);

      const decisionOf = (r: Report) =>
        r.comparisons.map((c) => ({
          decision: c.decision,
          reason: c.reason,
          sequentialPValue: c.sequentialPValue,
          sequentialCi: c.sequentialCi,
          pValue: c.pValue,
          variantRate: c.variantRate,
          baselineRate: c.baselineRate,
        }));
      console.log(`      decision: ${JSON.stringify(decisionOf(live)[0])}`);
      assert.deepEqual(decisionOf(restarted), decisionOf(live), 'restarted router');
      assert.deepEqual(decisionOf(offline), decisionOf(live), 'analyze');
      if (window) {
        const matured = live.attribution!.variants!;
        console.log(`      attribution: ${JSON.stringify(matured)}`);
        assert.ok(matured.v1!.matured > 0 && matured.v2!.matured > 0, 'units matured in both arms');
      }
      for (const key of [
        'variants',
        'srm',
        'guardrails',
        'excluded',
        'generatedAt',
        'attribution',
      ] as const) {
        assert.deepEqual(restarted[key], live[key], `restarted router: ${key}`);
        assert.deepEqual(offline[key], live[key], `analyze: ${key}`);
      }
    });
  });
