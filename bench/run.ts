/**
 * Runs the benchmarks and writes one JSON of their figures and ratios (issue #20, "Regression
 * guard"). Each bench is its own process, as when run alone; it records its figures through
 * bench/lib/figures.ts.
 *
 *   npm run bench                      every bench; writes bench/results.json and the README's
 *                                      performance table (between its bench markers)
 *   npm run bench -- --quick           the quick ones, with shorter loads (what CI runs);
 *                                      `--readme` writes the README's table from them too
 *   npm run bench -- --quick --repeat 5 --calibrate
 *                                      measures each guarded ratio's noise over 5 runs and
 *                                      writes it to bench/bounds.json
 *   npm run bench:guard                the quick benches once; exits 1 when a guarded ratio is
 *                                      worse than its bound by more than its measured noise
 *
 * Only ratios of two things measured side by side in the same run are guarded: absolute times
 * depend on the machine, never fail a run, and are only reported.
 */
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { Figure } from './lib/figures';
import { guard, type Bounds } from './lib/guard';
import { performanceTable, replaceBetweenMarkers } from './lib/table';

interface Bench {
  script: string;
  /** Part of the quick set that CI runs. */
  quick: boolean;
  args?: string[];
}

const BENCHES: Bench[] = [
  { script: 'extension.ts', quick: true },
  { script: 'drift.ts', quick: true },
  { script: 'stats.ts', quick: false },
  { script: 'routerVsNginx.ts', quick: true },
  { script: 'mlserverAlone.ts', quick: false },
  { script: 'router.ts', quick: false },
  { script: 'routerGrpc.ts', quick: false },
  { script: 'mlserverGrpc.ts', quick: false },
  { script: 'routerMemory.ts', quick: true },
  { script: 'routerReplay.ts', quick: false },
  { script: 'routerStart.ts', quick: false },
  { script: 'replicaMerge.ts', quick: false },
  { script: 'report.ts', quick: false },
  // Quick: 10^5 events; full: 10^5, 10^6 and 10^7 (logs generated once under ~/.cache/model-canary/bench).
  { script: 'analyze.ts', quick: true },
  { script: 'graphSteps.ts', quick: false },
  { script: 'dashboard.ts', quick: false },
];

const root = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const isGuard = flag('--guard');
const isQuick = isGuard || flag('--quick');
const repeat = Math.max(1, Number(option('--repeat') ?? 1));
const only = option('--only')?.split(',');
const boundsFile = join(root, 'bench/bounds.json');

function runBench(bench: Bench): Figure[] {
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-'));
  const file = join(dir, 'figures.jsonl');
  writeFileSync(file, '');
  try {
    console.log(`\n── bench/${bench.script}${isQuick ? ' (quick)' : ''}`);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join('bench', bench.script), ...(bench.args ?? [])],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, BENCH_FIGURES: file, BENCH_QUICK: isQuick ? '1' : '0' },
      },
    );
    if (r.status !== 0) throw new Error(`bench/${bench.script} exited ${r.status ?? r.signal}`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Figure);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface Result extends Figure {
  /** Every run's value, when repeated. */
  runs: number[];
}

async function main(): Promise<number> {
  const selected = BENCHES.filter(
    (b) => (!isQuick || b.quick) && (!only || only.some((o) => b.script.startsWith(o))),
  );
  const byId = new Map<string, { figure: Figure; runs: number[] }>();
  for (let i = 0; i < repeat; i++)
    for (const bench of selected)
      for (const f of runBench(bench)) {
        const entry = byId.get(f.id) ?? { figure: f, runs: [] };
        entry.runs.push(f.value);
        byId.set(f.id, entry);
      }
  const results: Result[] = [...byId.values()].map(({ figure, runs }) => ({
    ...figure,
    value: median(runs),
    runs,
  }));
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
  const out = { date: new Date().toISOString(), quick: isQuick, repeat, machine, figures: results };
  const bounds = JSON.parse(readFileSync(boundsFile, 'utf8')) as Bounds;

  if (flag('--calibrate')) {
    for (const r of results.filter((x) => x.ratio && bounds.ratios[x.id])) {
      const spread = (Math.max(...r.runs) - Math.min(...r.runs)) / r.value;
      // Noise: the relative spread seen over the repeated runs, widened by half, at least 10%.
      bounds.ratios[r.id]!.noise = Math.max(0.1, Number((1.5 * spread).toFixed(2)));
      bounds.ratios[r.id]!.calibrated =
        `${out.date.slice(0, 10)}, ${repeat} runs: ${r.runs.map((v) => v.toFixed(3)).join(', ')}`;
    }
    writeFileSync(
      boundsFile,
      await format(JSON.stringify(bounds), { ...(await resolveConfig(boundsFile)), filepath: boundsFile }),
    );
    console.log(`\nnoise written to ${boundsFile}`);
  }
  if (isGuard) {
    const verdict = guard(results, bounds);
    console.log(`\n${verdict.lines.join('\n')}`);
    return verdict.ok ? 0 : 1;
  }
  const resultsFile = join(root, isQuick ? 'bench/results.quick.json' : 'bench/results.json');
  writeFileSync(
    resultsFile,
    await format(JSON.stringify(out), { ...(await resolveConfig(resultsFile)), filepath: resultsFile }),
  );
  console.log(`\nfigures written to ${resultsFile}`);
  if (!only && (!isQuick || flag('--readme'))) {
    const readme = join(root, 'README.md');
    const text = replaceBetweenMarkers(readFileSync(readme, 'utf8'), performanceTable(out, bounds));
    // Formatted as `npm run format` would, so format:check holds after a regeneration.
    writeFileSync(readme, await format(text, { ...(await resolveConfig(readme)), filepath: readme }));
    console.log('README performance table regenerated');
  }
  return 0;
}

process.exitCode = await main();
