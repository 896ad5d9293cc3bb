import assert from 'node:assert/strict';
import { samplesNeeded, verdicts } from '../../webview/panels/verdict/shape';
import { comparison, report, variant } from './webviewReportFixture';

describe('webview shaping: the verdict in words', () => {
  it('says "not yet" with the samples still needed and the lift with its interval', () => {
    const [v] = verdicts(report());
    assert.equal(v?.tone, 'wait');
    assert.equal(v?.headline, 'v2: promote? not yet');
    assert.equal(v?.deciding, '1,940 of ~6,100 samples needed (~5 min at the current rate)');
    assert.equal(v?.detail, 'conversion +18.9% (+3.9%, +36.1%)');
  });

  it('says ready to promote with the always-valid p-value that decides it', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({ decision: 'promote', sequentialPValue: 0.0031, reason: 'v2 converts better' }),
        ],
      }),
    );
    assert.equal(v?.tone, 'good');
    assert.equal(v?.headline, 'v2: ready to promote');
    assert.equal(v?.deciding, 'always-valid p = 0.0031');
  });

  it('says roll back with the breached guardrail in words', () => {
    const r = report({
      comparisons: [
        comparison({ decision: 'rollback', reason: 'guardrail latencyP95Ms breached: 61.2 > 50' }),
      ],
      guardrails: [{ name: 'latencyP95Ms', variant: 'v2', value: 61.2, limit: 50, ok: false }],
    });
    const [v] = verdicts(r);
    assert.equal(v?.tone, 'bad');
    assert.equal(v?.headline, 'v2: roll back');
    assert.equal(v?.deciding, 'p95 latency 61.2 ms is over the 50.0 ms guardrail');
  });

  it('says roll back when the candidate converts worse', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({
            decision: 'rollback',
            relativeLift: -0.2,
            relativeCi95: [-0.3, -0.1],
            sequentialPValue: 0.002,
          }),
        ],
      }),
    );
    assert.equal(v?.headline, 'v2: roll back');
    assert.equal(v?.deciding, 'always-valid p = 0.0020');
    assert.equal(v?.detail, 'conversion \u221220.0% (\u221230.0%, \u221210.0%)');
  });

  it('says no difference when enough samples show none', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({
            decision: 'inconclusive',
            reason: 'no significant difference after 12,000 samples per arm (enough to detect ±0.61%)',
          }),
        ],
      }),
    );
    assert.equal(v?.headline, 'v2: no difference');
    assert.equal(v?.deciding, 'no significant difference after 12,000 samples per arm');
  });

  it("says it can't tell under a sample-ratio mismatch, whatever the test says", () => {
    const r = report({
      srm: { chi2: 12.5, pValue: 0.0004, mismatch: true },
      comparisons: [comparison({ decision: 'inconclusive' })],
    });
    const [v] = verdicts(r);
    assert.equal(v?.tone, 'warn');
    assert.equal(v?.headline, "v2: can't tell");
    assert.equal(v?.deciding, 'SRM p = 0.0004');
  });

  it('says what is missing before there is anything to compare', () => {
    const noTraffic = report({
      variants: [variant('v1', 'baseline', { requests: 0 }), variant('v2', 'candidate', { requests: 0 })],
    });
    assert.equal(verdicts(noTraffic)[0]?.headline, 'no traffic yet');
    assert.match(
      verdicts(noTraffic, { routerUrl: 'http://127.0.0.1:8090/' })[0]!.detail,
      /POST http:\/\/127\.0\.0\.1:8090\/v2\/models\/propensity\/infer/,
    );

    const noFeedback = report({
      variants: [variant('v1', 'baseline', { feedback: {} }), variant('v2', 'candidate', { feedback: {} })],
    });
    const [v] = verdicts(noFeedback);
    assert.equal(v?.headline, 'no feedback yet');
    assert.equal(
      v?.detail,
      'send it to POST /api/v1/experiments/propensity/feedback or run Simulate Traffic',
    );

    const onlyBaseline = report({ variants: [variant('v1', 'baseline')], comparisons: [] });
    assert.equal(verdicts(onlyBaseline)[0]?.headline, 'v1 serves all traffic');
  });

  it('reads the samples needed out of the analysis reason', () => {
    assert.deepEqual(samplesNeeded('not enough evidence yet: 1,940 of ~6,100 samples per arm'), {
      have: '1,940',
      need: '6,100',
    });
    // Too early to estimate: the reason is shown as it is, never "10 of ~? samples".
    assert.equal(
      samplesNeeded('not enough evidence yet: 10 samples per arm, too few to estimate how many are needed'),
      undefined,
    );
    assert.equal(samplesNeeded('v2 converts better')?.have, undefined);
  });
});
