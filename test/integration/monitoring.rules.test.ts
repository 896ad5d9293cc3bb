// `export --target prometheus` on the sample experiment, checked by the real promtool (Debian's
// prometheus package): `check rules` on both files, and `test rules` with synthetic series that make
// each alert fire and then resolve.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { RuleGroup } from '../../src/manifests/prometheusRules';
import { exportManifests } from '../../src/operations/exportManifests';
import { LATENCY_BUCKETS_SECONDS } from '../../src/shared/metricNames';
import { promtool } from '../harness/monitoring';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const EXP = 'experiment="propensity"';
const SEGMENTS = [30, 20, 30]; // minutes: healthy, the condition, healthy again

/**
 * A counter's values in promtool's expanding notation, one sample a minute: `perMinute[i]` added
 * each minute of segment i. An `undefined` segment leaves the series absent (`_`).
 */
function counter(perMinute: (number | undefined)[]): string {
  let value = 0;
  const parts: string[] = [];
  perMinute.forEach((inc, i) => {
    const n = SEGMENTS[i]!;
    if (inc === undefined) return parts.push(`_x${n}`);
    const start = i === 0 ? 0 : value + inc;
    parts.push(`${start}+${inc}x${n - (i === 0 ? 0 : 1)}`);
    value = start + inc * (n - (i === 0 ? 0 : 1));
  });
  return parts.join(' ');
}

/** A gauge's values per segment (undefined: absent). */
function gauge(values: (number | undefined)[]): string {
  return values.map((v, i) => (v === undefined ? `_x${SEGMENTS[i]}` : `${v}x${SEGMENTS[i]! - 1}`)).join(' ');
}

/** The bucket series of a histogram whose requests each minute all take `seconds[i]` in segment i. */
function histogram(
  variant: string,
  perMinute: number,
  seconds: number[],
): { series: string; values: string }[] {
  return [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'].map((le) => ({
    series: `model_canary_request_duration_seconds_bucket{${EXP},variant="${variant}",protocol="http",le="${le}"}`,
    values: counter(seconds.map((s) => (le === '+Inf' || s <= Number(le) ? perMinute : 0))),
  }));
}

/** The alert's annotations as Prometheus renders them for `labels` and a value rendered as `value`. */
function rendered(groups: RuleGroup[], alert: string, labels: Record<string, string>, value: string) {
  const rule = groups.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === alert);
  assert.ok(rule && 'alert' in rule, `no alert ${alert} in the exported rules`);
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([k, v]) => [
      k,
      v
        .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '')
        .replace(/\{\{ \$value(?: \| \w+)? \}\}/g, value),
    ]),
  );
}

describe('export --target prometheus: rules checked and unit-tested by promtool (Debian prometheus)', function () {
  this.timeout(120_000);
  let dir: string;
  let rulesFile: string;
  let groups: RuleGroup[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-rules-'));
    const result = await exportManifests({
      workspace: SAMPLE_MODELS,
      experiment: join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
      target: 'prometheus',
      out: dir,
    });
    assert.deepEqual(
      result.files.map((f) => f.slice(dir.length + 1)),
      ['propensity-prometheus-rules.yaml', 'propensity-prometheusrule.yaml'],
    );
    rulesFile = result.files[0]!;
    groups = (parse(await readFile(rulesFile, 'utf8')) as { groups: RuleGroup[] }).groups;
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a rules file that promtool check rules accepts, and a PrometheusRule with the same groups', async () => {
    const check = await promtool(['check', 'rules', rulesFile]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 8 rules found/);

    const [doc, ...rest] = parseAllDocuments(
      await readFile(join(dir, 'propensity-prometheusrule.yaml'), 'utf8'),
    );
    assert.equal(rest.length, 0);
    const object = doc!.toJS() as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { groups: unknown };
    };
    assert.equal(object.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(object.kind, 'PrometheusRule');
    assert.equal(object.metadata.name, 'model-canary-propensity');
    assert.deepEqual(object.spec.groups, groups);
    const specFile = join(dir, 'from-prometheusrule.yaml');
    await writeFile(specFile, stringify({ groups: object.spec.groups }));
    const again = await promtool(['check', 'rules', specFile]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it("links every alert's runbook to a heading that exists in docs/troubleshooting.md", async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs/troubleshooting.md'), 'utf8');
    const anchors = new Set(
      [...doc.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const alerts = groups.flatMap((g) => g.rules).filter((r) => 'alert' in r);
    assert.equal(alerts.length, 5);
    for (const a of alerts) {
      const m =
        /^https:\/\/github\.com\/model-canary\/model-canary\/blob\/main\/docs\/troubleshooting\.md#(.+)$/.exec(
          a.annotations.runbook_url ?? '',
        );
      assert.ok(m, `${a.alert}: runbook_url ${a.annotations.runbook_url}`);
      assert.ok(anchors.has(m[1]!), `${a.alert}: no heading with anchor #${m[1]} in docs/troubleshooting.md`);
    }
  });

  it('fires each alert while its condition holds and resolves it after (promtool test rules)', async () => {
    const at = (minutes: number): string => `${minutes}m`;
    const none = (alertname: string) =>
      [20, 70].map((m) => ({ eval_time: at(m), alertname, exp_alerts: [] }));
    const firing = (alertname: string, labels: Record<string, string>, value: string) => ({
      eval_time: at(40),
      alertname,
      exp_alerts: [
        {
          exp_labels: { experiment: 'propensity', ...labels },
          exp_annotations: rendered(groups, alertname, { experiment: 'propensity', ...labels }, value),
        },
      ],
    });
    const tests = [
      {
        // v2 answers in 90 ms from minute 30 to 50 (all in the (75 ms, 100 ms] bucket: p95 = 98.75 ms).
        interval: '1m',
        input_series: [
          ...histogram('v1', 100, [0.004, 0.004, 0.004]),
          ...histogram('v2', 100, [0.004, 0.09, 0.004]),
        ],
        alert_rule_test: [
          ...none('ModelCanaryLatencyP95High'),
          firing('ModelCanaryLatencyP95High', { variant: 'v2', severity: 'warning' }, '98.75ms'),
        ],
      },
      {
        // 5 of v2's 100 requests a minute fail from minute 30 to 50 (5% against a 1% guardrail).
        interval: '1m',
        input_series: [
          {
            series: `model_canary_requests_total{${EXP},variant="v1",protocol="http",code="200"}`,
            values: counter([100, 100, 100]),
          },
          {
            series: `model_canary_requests_total{${EXP},variant="v2",protocol="http",code="200"}`,
            values: counter([100, 95, 100]),
          },
          {
            series: `model_canary_requests_total{${EXP},variant="v2",protocol="http",code="502"}`,
            values: counter([0, 5, 0]),
          },
          {
            series: `model_canary_request_errors_total{${EXP},variant="v1",protocol="http"}`,
            values: counter([0, 0, 0]),
          },
          {
            series: `model_canary_request_errors_total{${EXP},variant="v2",protocol="http"}`,
            values: counter([0, 5, 0]),
          },
        ],
        alert_rule_test: [
          ...none('ModelCanaryErrorRateHigh'),
          firing('ModelCanaryErrorRateHigh', { variant: 'v2', severity: 'critical' }, '5%'),
        ],
      },
      {
        // The router's verdict on v2's age is drift from minute 30 to 50; channel never drifts.
        interval: '1m',
        input_series: [
          {
            series: `model_canary_feature_drift_detected{${EXP},variant="v2",feature="age",test="ks"}`,
            values: gauge([0, 1, 0]),
          },
          {
            series: `model_canary_feature_drift_detected{${EXP},variant="v2",feature="channel",test="chi2"}`,
            values: gauge([0, 0, 0]),
          },
        ],
        alert_rule_test: [
          ...none('ModelCanaryFeatureDrift'),
          firing(
            'ModelCanaryFeatureDrift',
            { variant: 'v2', feature: 'age', test: 'ks', severity: 'warning' },
            '',
          ),
        ],
      },
      {
        // The split mismatches its weights from minute 30 to 50.
        interval: '1m',
        input_series: [{ series: `model_canary_srm_p_value{${EXP}}`, values: gauge([0.5, 0.0001, 0.5]) }],
        alert_rule_test: [
          ...none('ModelCanarySampleRatioMismatch'),
          firing('ModelCanarySampleRatioMismatch', { severity: 'warning' }, '0.0001'),
        ],
      },
      {
        // The rollout rolls back at minute 30; a new run at minute 50 has no rollout (the series goes).
        interval: '1m',
        input_series: [
          {
            series: `model_canary_rollout_state{${EXP},state="Progressing"}`,
            values: gauge([1, 0, undefined]),
          },
          {
            series: `model_canary_rollout_state{${EXP},state="RolledBack"}`,
            values: gauge([0, 1, undefined]),
          },
        ],
        alert_rule_test: [
          ...none('ModelCanaryRolloutRolledBack'),
          firing('ModelCanaryRolloutRolledBack', { state: 'RolledBack', severity: 'critical' }, ''),
        ],
      },
    ];
    const testFile = join(dir, 'propensity-rules.test.yaml');
    await writeFile(
      testFile,
      stringify({ rule_files: ['propensity-prometheus-rules.yaml'], evaluation_interval: '1m', tests }),
    );
    const run = await promtool(['test', 'rules', testFile], undefined, dir);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}\n${await readFile(testFile, 'utf8')}`);
    assert.match(run.stdout, /SUCCESS/);
    // The test can fail: the same tests against rules with a guardrail the series never cross do.
    const loose = (await readFile(rulesFile, 'utf8')).replace(/> 0\.05$/m, '> 0.5');
    await writeFile(join(dir, 'propensity-prometheus-rules.yaml'), loose);
    const broken = await promtool(['test', 'rules', testFile], undefined, dir);
    assert.notEqual(broken.code, 0, 'promtool test rules passed against a latency guardrail of 500 ms');
    assert.match(broken.stdout + broken.stderr, /ModelCanaryLatencyP95High/);
  });
});
