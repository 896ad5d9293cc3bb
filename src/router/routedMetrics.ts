/**
 * The routed requests' metrics — the duration histogram, the requests by status code and the
 * errors — counted in plain numbers on the hot path and turned into series only on a scrape.
 * prom-client's labelled children hash and check their labels on every call (1.7 µs a request
 * for an observe and an inc, measured); here a request costs a map lookup and a few additions.
 * The exposition is the one prom-client's Histogram and Counter print: the same names, help,
 * label order, series order (first seen first) and values. The counters stay prom-client
 * Counters filled from these numbers in their `collect`; the histogram is a small metric of
 * its own that hands the registry prom-client's histogram series (cumulative `le` buckets,
 * `+Inf`, `_sum`, `_count`).
 */
import { Counter, type Histogram, type Registry } from 'prom-client';

interface Labels {
  experiment: string;
  variant: string;
  protocol: string;
}

interface Series {
  labels: Labels;
  /** Observations per upper bound (not cumulative); above the last bound only in `count`. */
  buckets: Float64Array;
  sum: number;
  count: number;
  errors: number;
  codes: Map<number, { n: number }>;
}

export interface RoutedMetricNames {
  duration: { name: string; help: string; buckets: readonly number[] };
  requests: { name: string; help: string };
  errors: { name: string; help: string };
}

export class RoutedMetrics {
  /** By experiment \0 variant \0 protocol, in the order first seen (the series order). */
  private readonly series = new Map<string, Series>();
  private readonly codeOrder: { labels: Labels & { code: string }; count: { n: number } }[] = [];
  private readonly errorOrder: Series[] = [];
  private readonly bounds: readonly number[];

  constructor(registry: Registry, names: RoutedMetricNames) {
    this.bounds = [...names.duration.buckets].sort((a, b) => a - b);
    const { codeOrder, errorOrder } = this;
    registry.registerMetric(this.histogram(names.duration.name, names.duration.help));
    new Counter({
      name: names.requests.name,
      help: names.requests.help,
      labelNames: ['experiment', 'variant', 'protocol', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, count } of codeOrder) this.inc(labels, count.n);
      },
    });
    new Counter({
      name: names.errors.name,
      help: names.errors.help,
      labelNames: ['experiment', 'variant', 'protocol'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of errorOrder) this.inc(s.labels, s.errors);
      },
    });
  }

  /** One routed request answered with `code` after `seconds`. */
  record(
    experiment: string,
    variant: string,
    protocol: string,
    code: number,
    seconds: number,
    error: boolean,
  ): void {
    const key = `${experiment}\0${variant}\0${protocol}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: { experiment, variant, protocol },
        buckets: new Float64Array(this.bounds.length),
        sum: 0,
        count: 0,
        errors: 0,
        codes: new Map(),
      };
      this.series.set(key, s);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    if (i < bounds.length) s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
    if (error && s.errors++ === 0) this.errorOrder.push(s);
    let count = s.codes.get(code);
    if (!count) {
      count = { n: 0 };
      s.codes.set(code, count);
      this.codeOrder.push({ labels: { ...s.labels, code: String(code) }, count });
    }
    count.n++;
  }

  /** The duration histogram as the registry reads a metric: prom-client's histogram series. */
  private histogram(name: string, help: string): Histogram {
    const bucketName = `${name}_bucket`;
    const values = () => {
      const out: {
        labels: Record<string, string | number>;
        sharedLabels: Labels;
        value: number;
        metricName: string;
        exemplar: null | undefined;
      }[] = [];
      for (const s of this.series.values()) {
        let acc = 0;
        this.bounds.forEach((le, i) => {
          acc += s.buckets[i]!;
          out.push({
            labels: { le },
            sharedLabels: s.labels,
            value: acc,
            metricName: bucketName,
            exemplar: null,
          });
        });
        const shared = { sharedLabels: s.labels, exemplar: undefined };
        out.push({
          ...shared,
          labels: { le: '+Inf' },
          value: s.count,
          metricName: bucketName,
          exemplar: null,
        });
        out.push({ ...shared, labels: {}, value: s.sum, metricName: `${name}_sum` });
        out.push({ ...shared, labels: {}, value: s.count, metricName: `${name}_count` });
      }
      return out;
    };
    const head = { name, help, type: 'histogram', aggregator: 'sum' };
    const metric = {
      ...head,
      getForPromString: () => Promise.resolve({ ...head, values: values() }),
      get: () =>
        Promise.resolve({
          ...head,
          values: values().map(({ labels, sharedLabels, ...rest }) => ({
            ...rest,
            labels: { ...labels, ...sharedLabels },
          })),
        }),
      reset: () => {
        this.series.clear();
        this.codeOrder.length = 0;
        this.errorOrder.length = 0;
      },
    };
    // The registry reads a metric through get/getForPromString only (registry.js).
    return metric as unknown as Histogram;
  }
}
