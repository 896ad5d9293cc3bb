// `export --target grafana` on the sample experiment: the dashboard against the fields of Grafana's
// documented dashboard JSON model, and every panel's PromQL parsed by the real promtool.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { GrafanaDashboard } from '../../src/manifests/grafanaDashboard';
import { exportManifests } from '../../src/operations/exportManifests';
import { promtool } from '../harness/monitoring';
import { SAMPLE_MODELS } from '../harness/tools';

// The dashboard JSON model's top-level fields and their types, as Grafana documents them
// (Dashboards → Build dashboards → "Dashboard JSON model"; `id` is null until Grafana saves it).
const TOP_LEVEL: Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null'> = {
  id: 'null',
  uid: 'string',
  title: 'string',
  tags: 'array',
  timezone: 'string',
  editable: 'boolean',
  graphTooltip: 'number',
  panels: 'array',
  time: 'object',
  timepicker: 'object',
  templating: 'object',
  annotations: 'object',
  refresh: 'string',
  schemaVersion: 'number',
  version: 'number',
  links: 'array',
};

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

describe('export --target grafana: a dashboard in the documented JSON model whose PromQL promtool parses', function () {
  this.timeout(60_000);
  let dir: string;
  let dashboard: GrafanaDashboard;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-grafana-'));
    const result = await exportManifests({
      workspace: SAMPLE_MODELS,
      experiment: join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
      target: 'grafana',
      out: dir,
    });
    assert.deepEqual(result.files, [join(dir, 'propensity-grafana-dashboard.json')]);
    dashboard = JSON.parse(await readFile(result.files[0]!, 'utf8')) as GrafanaDashboard;
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has the documented top-level fields with their types', () => {
    for (const [field, type] of Object.entries(TOP_LEVEL))
      assert.equal(typeOf((dashboard as unknown as Record<string, unknown>)[field]), type, field);
    assert.ok(
      dashboard.uid.length >= 8 && dashboard.uid.length <= 40,
      `uid "${dashboard.uid}" is 8-40 characters`,
    );
    assert.ok([0, 1, 2].includes(dashboard.graphTooltip));
    assert.equal(typeOf(dashboard.time.from), 'string');
    assert.equal(typeOf(dashboard.templating.list), 'array');
    assert.equal(typeOf(dashboard.annotations.list), 'array');
  });

  it('lays its panels on the 24-column grid without overlap, each on the data source variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { h, w, x, y } = p.gridPos;
      assert.ok(
        Number.isInteger(h) && h > 0 && w > 0 && x >= 0 && y >= 0 && x + w <= 24,
        `${p.title}: gridPos`,
      );
      for (let r = y; r < y + h; r++)
        for (let c = x; c < x + w; c++) {
          assert.ok(!cells.has(`${r},${c}`), `${p.title} overlaps another panel`);
          cells.add(`${r},${c}`);
        }
      if (p.type === 'row') continue;
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' });
      const refIds = (p.targets ?? []).map((t) => t.refId);
      assert.ok(refIds.length > 0, `${p.title} has a query`);
      assert.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds are unique`);
    }
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.deepEqual([variable?.type, variable?.query], ['datasource', 'prometheus']);
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    for (const row of ['Split', 'Latency', 'Errors', 'Drift', 'Conversion'])
      assert.ok(rows.includes(row), row);
  });

  it("draws the experiment's guardrails as thresholds", () => {
    const steps = (title: string) =>
      (
        dashboard.panels.find((p) => p.title === title)?.fieldConfig?.defaults.thresholds as {
          steps: { value: number | null }[];
        }
      ).steps;
    assert.deepEqual(
      steps('p95 latency by variant').map((s) => s.value),
      [null, 0.05],
    );
    assert.deepEqual(
      steps('Error rate by variant').map((s) => s.value),
      [null, 0.01],
    );
  });

  it('has PromQL in every panel that promtool parses (check rules over one recording rule per query)', async () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.id, ...t })));
    assert.ok(exprs.length >= 14, `${exprs.length} queries`);
    const file = join(dir, 'dashboard-queries.yaml');
    const rules = exprs.map((e) => ({ record: `grafana:panel_${e.panel}_${e.refId}`, expr: e.expr }));
    await writeFile(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
    const check = await promtool(['check', 'rules', file]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    // The check can fail: a query with a Grafana macro is not PromQL.
    await writeFile(
      file,
      stringify({
        groups: [
          {
            name: 'bad',
            rules: [{ record: 'x:y', expr: 'rate(model_canary_requests_total[$__rate_interval])' }],
          },
        ],
      }),
    );
    assert.notEqual((await promtool(['check', 'rules', file])).code, 0);
  });
});
