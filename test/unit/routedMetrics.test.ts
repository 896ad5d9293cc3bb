import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { seededRandom } from '../../src/core/stats/random';
import { RoutedMetrics } from '../../src/router/routedMetrics';
import { LATENCY_BUCKETS_SECONDS } from '../../src/shared/metricNames';

// The hot path counts in plain numbers; a scrape must print what prom-client's own metrics print.
describe('router metrics: routed requests counted without prom-client on the hot path', () => {
  const names = {
    duration: { name: 'd_seconds', help: 'Duration.', buckets: LATENCY_BUCKETS_SECONDS },
    requests: { name: 'r_total', help: 'Requests.' },
    errors: { name: 'e_total', help: 'Errors.' },
  };

  function promClient(registry: Registry) {
    const registers = [registry];
    const labelNames = ['experiment', 'variant', 'protocol'] as const;
    const d = new Histogram({
      ...names.duration,
      labelNames,
      registers,
      buckets: [...names.duration.buckets],
    });
    const r = new Counter({ ...names.requests, labelNames: [...labelNames, 'code'], registers });
    const e = new Counter({ ...names.errors, labelNames, registers });
    return (experiment: string, variant: string, protocol: string, code: number, s: number, err: boolean) => {
      d.observe({ experiment, variant, protocol }, s);
      if (err) e.inc({ experiment, variant, protocol });
      r.inc({ experiment, variant, protocol, code: String(code) });
    };
  }

  it('gives the exposition text of prom-client Histogram and Counters for random traffic', async () => {
    const random = seededRandom(11);
    const theirs = new Registry();
    const ours = new Registry();
    const reference = promClient(theirs);
    const routed = new RoutedMetrics(ours, names);
    assert.equal(await ours.metrics(), await theirs.metrics(), 'before any request');
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    for (let i = 0; i < 5_000; i++) {
      const args = [
        pick(['propensity', 'churn "q"\\n']),
        pick(['v1', 'v2', 'v3']),
        pick(['http', 'grpc']),
        pick([200, 200, 200, 400, 499, 502, 504]),
        // Some exactly on a bucket's bound (counted in it), some beyond the last one.
        random() < 0.1 ? pick(LATENCY_BUCKETS_SECONDS) : random() ** 3 * 20,
        random() < 0.05,
      ] as const;
      reference(...args);
      routed.record(...args);
      if (i === 3 || i % 997 === 0)
        assert.equal(await ours.metrics(), await theirs.metrics(), `after ${i + 1}`);
    }
    const text = await ours.metrics();
    assert.equal(text, await theirs.metrics());
    assert.match(
      text,
      /d_seconds_bucket\{le="\+Inf",experiment="propensity",variant="v1",protocol="http"\} \d+/,
    );
    assert.match(text, /e_total\{experiment=/);
    assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  });
});
