import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';

const DIR = join(import.meta.dirname, '../fixtures/analysis');

interface Expected {
  malformedLines: number;
  variants: {
    name: string;
    requests: number;
    errors: number;
    observedShare: number;
    conversions: number;
    rate: number;
    latencyMs: Record<string, number>;
  }[];
  weightsAtEnd: Record<string, number>;
  srm: { chi2: number; pValue: number };
  comparisons: {
    variant: string;
    baselineRate: number;
    variantRate: number;
    pValue: number;
    ci95: number[];
    relativeCi95: number[];
    chanceToBeatBaseline: number;
  }[];
  shadow: { requests: number; agreement: number };
}

const rel = (actual: number, expected: number, tol: number, what: string): void => {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(
    err <= tol || Math.abs(actual - expected) < 1e-15,
    `${what}: ${actual} vs ${expected} (relative error ${err})`,
  );
};

// Logs made by make_analysis_fixture.py with the values scipy/statsmodels give for them.
for (const scenario of ['small', 'medium']) {
  describe(`analyze on the ${scenario} fixture log (reference values from scipy/statsmodels)`, () => {
    const expected = JSON.parse(readFileSync(join(DIR, `${scenario}.expected.json`), 'utf8')) as Expected;
    let result: Awaited<ReturnType<typeof analyzeEventsFile>>;

    before(async () => {
      result = await analyzeEventsFile(join(DIR, `${scenario}.events.jsonl`), join(DIR, 'experiment.yaml'));
    });

    it('skips and counts malformed lines, with their line numbers', () => {
      assert.equal(result.malformed.length, expected.malformedLines);
      assert.ok(result.malformed.every((m) => m.line > 0 && m.error.length > 0));
      assert.equal(result.orphanFeedback, 1, 'feedback for an unknown request id is not attributed');
    });

    it('counts requests, errors, the observed split and the latest conversion per request', () => {
      const { report } = result;
      assert.deepEqual(
        report.variants.map((v) => v.weight),
        Object.values(expected.weightsAtEnd),
      );
      for (const e of expected.variants) {
        const v = report.variants.find((x) => x.name === e.name)!;
        assert.equal(v.requests, e.requests, `${e.name} requests`);
        assert.equal(v.errors, e.errors, `${e.name} errors`);
        rel(v.observedShare, e.observedShare, 1e-12, `${e.name} share`);
        rel(v.feedback.conversion!.rate, e.rate, 1e-12, `${e.name} rate`);
      }
    });

    it('reports latency percentiles within 1% of the exact ones', () => {
      for (const e of expected.variants) {
        const v = result.report.variants.find((x) => x.name === e.name)!;
        for (const q of ['p50', 'p95', 'p99'] as const)
          rel(v.latencyMs[q], e.latencyMs[q]!, 0.01, `${e.name} ${q}`);
      }
    });

    it('tests the split against the weights in force when each request arrived (SRM)', () => {
      rel(result.report.srm.chi2, expected.srm.chi2, 1e-6, 'chi2');
      rel(result.report.srm.pValue, expected.srm.pValue, 1e-6, 'SRM p');
      assert.equal(result.report.srm.mismatch, expected.srm.pValue < 0.001);
    });

    it('matches the z-test, Newcombe and log risk-ratio intervals to 1e-6 and the chance to beat to 0.005', () => {
      for (const e of expected.comparisons) {
        const c = result.report.comparisons.find((x) => x.variant === e.variant)!;
        rel(c.baselineRate, e.baselineRate, 1e-12, 'baseline rate');
        rel(c.variantRate, e.variantRate, 1e-12, 'variant rate');
        rel(c.pValue, e.pValue, 1e-6, `${e.variant} p`);
        rel(c.ci95[0], e.ci95[0]!, 1e-6, `${e.variant} ci lo`);
        rel(c.ci95[1], e.ci95[1]!, 1e-6, `${e.variant} ci hi`);
        rel(c.relativeCi95[0], e.relativeCi95[0]!, 1e-6, `${e.variant} rel ci lo`);
        rel(c.relativeCi95[1], e.relativeCi95[1]!, 1e-6, `${e.variant} rel ci hi`);
        assert.ok(Math.abs(c.chanceToBeatBaseline - e.chanceToBeatBaseline) < 0.005);
        assert.ok(['promote', 'rollback', 'continue', 'inconclusive'].includes(c.decision));
        assert.ok(c.reason.length > 10);
        assert.ok(
          c.sequentialPValue >= c.pValue * 0.999 || c.sequentialPValue === 1,
          'always-valid p is never below the fixed-horizon p',
        );
      }
    });

    it('scores shadow agreement on mirrored requests only', () => {
      assert.equal(result.report.shadow?.requests, expected.shadow.requests);
      rel(result.report.shadow?.agreement ?? -1, expected.shadow.agreement, 1e-12, 'agreement');
    });
  });
}

describe('analyze: bad input', () => {
  it('names a missing events file', async () => {
    await assert.rejects(
      analyzeEventsFile('/nonexistent.jsonl', join(DIR, 'experiment.yaml')),
      /the events file \/nonexistent\.jsonl does not exist/,
    );
  });

  it('names the file and line of an invalid experiment', async () => {
    await assert.rejects(
      analyzeEventsFile(join(DIR, 'small.events.jsonl'), join(DIR, 'make_analysis_fixture.py')),
      /invalid experiment file/,
    );
  });
});
