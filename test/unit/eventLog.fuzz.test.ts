/**
 * Fuzz: a poisoned event log never stops the router. Seeded random logs, valid at first, are
 * mutated line by line (a field set to null, a negative or infinite number, a wrong type, a
 * deleted field, random bytes, a bare JSON value, a cut line, feedback for a request the log
 * does not hold) and replayed by the router's own
 * state (RouterCore.open, as the process does at start), then the rollout controller restores
 * from it and every report is built. Each run prints how many lines were quarantined.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/core/stats/random';
import { parseRouterConfig } from '../../src/core/spec/routerConfig';
import { resolveSettings } from '../../src/router/config';
import { RouterCore } from '../../src/router/core';
import { RolloutController } from '../../src/router/rollout';
import { scanLog } from '../../src/core/log/scan';

const CONFIG = `
listen: 127.0.0.1:0
dataDir: data
experiments:
  - name: shop
    endpoint: shop
    variants:
      - { name: v1, url: "http://127.0.0.1:9", model: m1, weight: 90, role: baseline }
      - { name: v2, url: "http://127.0.0.1:9", model: m2, weight: 10 }
`;

type Random = () => number;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function rolloutState(r: Random): Record<string, unknown> {
  return {
    state: pick(r, ['Progressing', 'Paused', 'Succeeded']),
    baseline: 'v1',
    candidate: 'v2',
    stepIndex: 0,
    steps: [5, 25, 50, 100],
    stepStartedAt: 1_700_000_000_000,
    stepStartRequests: 0,
    awaitingApproval: false,
    approved: false,
    reason: 'fuzz',
    gates: [{ name: 'srm', ok: true, detail: 'ok' }],
    history: [
      { ts: 1_700_000_000_000, from: 'Initialized', to: 'Progressing', step: 0, weight: 5, reason: '' },
    ],
  };
}

/**
 * A valid event of a random type, as the router writes them: feedback and labels name a
 * request logged before, with its variant.
 */
function validEvent(r: Random, i: number, sent: { id: string; variant: string }[]): Record<string, unknown> {
  const ts = 1_700_000_000_000 + i * 1000;
  const base = { ts, experiment: 'shop' };
  const earlier = sent.length > 0 ? pick(r, sent) : undefined;
  const type = pick(r, ['request', 'request', 'request', 'feedback', 'label', 'weights', 'run', 'rollout']);
  switch (earlier || type !== 'feedback' ? type : 'request') {
    case 'request': {
      const request = { id: `req-${i}`, variant: pick(r, ['v1', 'v2']) };
      sent.push(request);
      return {
        type: 'request',
        ...base,
        ...request,
        latencyMs: r() * 50,
        status: pick(r, [200, 200, 502]),
        assignment: 'weighted',
        outputs: { predict: pick(r, [0, 1]), proba: r() },
      };
    }
    case 'feedback':
      return {
        type: 'feedback',
        ...base,
        id: earlier!.id,
        metric: 'conversion',
        value: pick(r, [0, 1]),
        variant: earlier!.variant,
      };
    case 'label':
      return {
        type: 'label',
        ...base,
        id: earlier?.id ?? 'req-0',
        label: pick(r, [0, 1]),
        variant: earlier?.variant ?? 'v1',
      };
    case 'weights':
      return { type: 'weights', ...base, weights: { v1: 50, v2: 50 }, source: pick(r, ['api', 'config']) };
    case 'run':
      return { type: 'run', ...base, run: `run-${i}`, weights: { v1: 90, v2: 10 } };
    default:
      return { type: 'rollout', ...base, action: 'evaluate', state: rolloutState(r) };
  }
}

const POISON: readonly unknown[] = [null, -1, -1e308, 1e308, 'x', '', {}, [], true, '<b>x</b>', 1e300];

/** A mutated copy of a line, or a line that is not an event at all. */
function mutate(r: Random, event: Record<string, unknown>): string {
  const kind = Math.floor(r() * 7);
  // An outcome for a request the log does not hold (its line lost): valid, but not applicable.
  if (kind === 6 && (event.type === 'feedback' || event.type === 'label'))
    return JSON.stringify({ ...event, id: `ghost-${Math.floor(r() * 1e6)}` });
  if (kind === 0) return JSON.stringify(pick(r, [null, 42, 'text', [], [event], {}]));
  if (kind === 1) {
    const bytes = Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256));
    return Buffer.from(bytes.filter((b) => b !== 10)).toString('latin1');
  }
  if (kind === 2) {
    const text = JSON.stringify(event);
    return text.slice(0, Math.floor(r() * text.length));
  }
  // Field mutations, nested ones included.
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  const nested = Object.values(copy).filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
  if (nested.length > 0 && r() < 0.4) target = pick(r, nested) as Record<string, unknown>;
  const key = pick(r, Object.keys(target));
  if (kind === 3) delete target[key];
  else target[key] = pick(r, POISON);
  return JSON.stringify(copy);
}

describe('event log fuzz: random and mutated logs never stop the router', function () {
  this.timeout(120_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-logfuzz-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replays 150 seeded poisoned logs: every bad line is quarantined, reports build, log check agrees', async () => {
    const settings = await resolveSettings(parseRouterConfig(CONFIG, 'fuzz.yaml'), dir, 'fuzz.yaml');
    const quiet = { info: () => undefined, warn: () => undefined };
    let totalLines = 0;
    let totalQuarantined = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = seededRandom(seed);
      await rm(settings.dataDir, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(settings.dataDir, { recursive: true }));
      const lines: string[] = [];
      const sent: { id: string; variant: string }[] = [];
      const n = 20 + Math.floor(r() * 80);
      for (let i = 0; i < n; i++) {
        const event = validEvent(r, i, sent);
        lines.push(r() < 0.3 ? mutate(r, event) : JSON.stringify(event));
      }
      await writeFile(join(settings.dataDir, 'events-00000001.jsonl'), lines.join('\n') + '\n');
      const nonEmpty = lines.filter((l) => l.length > 0).length;

      let core: RouterCore | undefined;
      try {
        core = await RouterCore.open(settings, quiet);
        new RolloutController(core, quiet).restore(core.replayedRollouts);
        const report = core.report('shop');
        assert.ok(report, `seed ${seed}: a report`);
        JSON.stringify(report);
        const r0 = core.replay;
        // Every complete line is either replayed or quarantined.
        assert.equal(r0.events + r0.quarantined, nonEmpty, `seed ${seed}: events + quarantined = lines`);
        totalLines += nonEmpty;
        totalQuarantined += r0.quarantined;
        if (r0.quarantined > 0) {
          const side = (await readFile(join(settings.dataDir, 'quarantine.jsonl'), 'utf8'))
            .trim()
            .split('\n');
          assert.equal(side.length, r0.quarantined, `seed ${seed}: one quarantine entry per bad line`);
          for (const entry of side) {
            const e = JSON.parse(entry) as { offset: number; segment: string; reason: string };
            assert.equal(e.segment, 'events-00000001.jsonl');
            assert.ok(e.offset >= 0 && e.reason.length > 0);
          }
        }
        // `log check` reads the same lines as bad, minus those the router could not apply.
        const [scan] = await scanLog(settings.dataDir);
        assert.ok(scan!.bad.length <= r0.quarantined, `seed ${seed}: check finds no line replay accepted`);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).stack}\nlog:\n${lines.join('\n')}`);
      } finally {
        await core?.close();
      }
    }
    console.log(
      `      ${totalLines} lines in 150 logs, ${totalQuarantined} quarantined (${((100 * totalQuarantined) / totalLines).toFixed(1)}%), no start failed`,
    );
    assert.ok(totalQuarantined > 150, 'the mutations produce bad lines');
  });
  it('quarantines outcomes for requests the log does not hold, so successes never exceed trials', async () => {
    const settings = await resolveSettings(parseRouterConfig(CONFIG, 'fuzz.yaml'), dir, 'fuzz.yaml');
    const quiet = { info: () => undefined, warn: () => undefined };
    await import('node:fs/promises').then((fs) => fs.mkdir(settings.dataDir, { recursive: true }));
    const base = { ts: 1_700_000_000_000, experiment: 'shop' };
    const lines = [
      { type: 'request', ...base, id: 'r1', variant: 'v1', latencyMs: 1, status: 200 },
      { type: 'request', ...base, id: 'r2', variant: 'v2', latencyMs: 1, status: 200 },
      // The request lines of these two were lost: without the check, v1 has 3 successes in 1 trial.
      { type: 'feedback', ...base, id: 'lost-1', metric: 'conversion', value: 1, variant: 'v1' },
      { type: 'feedback', ...base, id: 'lost-2', metric: 'conversion', value: 1, variant: 'v1' },
      { type: 'label', ...base, id: 'lost-3', label: 1, variant: 'v1' },
      { type: 'feedback', ...base, id: 'r1', metric: 'conversion', value: 1, variant: 'v1' },
    ];
    await writeFile(
      join(settings.dataDir, 'events-00000001.jsonl'),
      lines.map((l) => JSON.stringify(l) + '\n').join(''),
    );
    const core = await RouterCore.open(settings, quiet);
    try {
      assert.equal(core.replay.quarantined, 3);
      const report = core.report('shop')!;
      const v1 = report.variants.find((v) => v.name === 'v1')!;
      assert.equal(v1.requests, 1);
      assert.equal(v1.feedback.conversion?.count, 1);
    } finally {
      await core.close();
    }
  });
});
