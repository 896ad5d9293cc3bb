/**
 * `model-canary analyze` from file to report, beside a bare pass over the same file in the same
 * run (read in chunks, split into lines, JSON.parse each line, nothing else): cold (no cache),
 * warm (the cache the cold run wrote, docs/engine.md) and the bare pass, each in its own process
 * so that its peak RSS is its own; the fastest of 3 alternating rounds (1 at 10^7). At 10^5 and
 * 10^6 events, and 10^7 in the full set: time should grow linearly with the events and memory
 * stay bounded by the windows.
 * Logs are generated once under ~/.cache/model-canary/bench (never in the repo).
 *   node --import tsx bench/analyze.ts [events...]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { record, quick } from './lib/figures';

const EXPERIMENT = join(import.meta.dirname, '../sample-models/experiments/propensity.yaml');
const LOG_DIR = join(homedir(), '.cache/model-canary/bench');
/** Bumped when the generated log changes. */
const LOG_VERSION = 1;

/**
 * Traffic as the demo's router logs it: sticky users, sampled features and outputs, a shadow
 * call for every tenth request, conversions for a third, labels for a fifth, a run at the start.
 */
function generate(file: string, n: number): void {
  mkdirSync(LOG_DIR, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  const channels = ['web', 'app', 'email', 'store'];
  const t0 = 1_764_000_000_000;
  let out: string[] = [];
  let bytes = 0;
  const push = (line: string): void => {
    out.push(line);
    bytes += line.length;
    if (bytes > 4_000_000) flush();
  };
  const flush = (): void => {
    writeSync(fd, out.join('\n') + '\n');
    out = [];
    bytes = 0;
  };
  push(
    `{"type":"run","ts":${t0},"experiment":"propensity","run":"r1","reason":"deploy","weights":{"v1":95,"v2":5}}`,
  );
  let written = 1;
  for (let i = 0; written < n; i++) {
    const id = `4f60b3a0-a70e-4c63-bef5-${String(i).padStart(12, '0')}`;
    const ts = t0 + i * 2;
    const variant = i % 20 === 0 ? 'v2' : 'v1';
    const user = (i % 50_000).toString(16).padStart(16, '0');
    const predict = (i * 7) % 5 === 0 ? 1 : 0;
    push(
      `{"type":"request","id":"${id}","ts":${ts},"experiment":"propensity","variant":"${variant}","latencyMs":${3 + (i % 17) / 10},"status":${i % 500 === 0 ? 502 : 200},"assignment":"sticky","user":"${user}","run":"r1","inputs":{"age":${20 + (i % 50)},"tenure_months":${i % 120},"sessions_30d":${i % 30},"basket_value":${(i % 9000) / 100},"channel":"${channels[i % 4]}","region":"east"},"outputs":{"predict":${predict},"proba":${(i % 100) / 100}}}`,
    );
    written++;
    if (i % 10 === 0 && written < n) {
      push(
        `{"type":"request","id":"${id}","ts":${ts},"experiment":"propensity","variant":"v3","latencyMs":${4 + (i % 13) / 10},"status":200,"shadow":true,"assignment":"shadow","run":"r1","outputs":{"predict":${predict},"proba":${(i % 97) / 100}}}`,
      );
      written++;
    }
    if (i % 3 === 0 && written < n) {
      push(
        `{"type":"feedback","id":"${id}","ts":${ts + 1},"experiment":"propensity","metric":"conversion","value":${i % 5 === 0 ? 1 : 0},"run":"r1"}`,
      );
      written++;
    }
    if (i % 5 === 0 && written < n) {
      push(
        `{"type":"label","id":"${id}","ts":${ts + 1},"experiment":"propensity","label":${i % 4 === 0 ? 1 : 0},"run":"r1"}`,
      );
      written++;
    }
  }
  flush();
  closeSync(fd);
  renameSync(tmp, file);
}

function logFile(n: number): string {
  const file = join(LOG_DIR, `analyze-v${LOG_VERSION}-${n}.jsonl`);
  if (!existsSync(file)) {
    const t0 = performance.now();
    generate(file, n);
    console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}

interface Measure {
  ms: number;
  /** CPU time (user + system) of the measured part. */
  cpuMs: number;
  /** Writing the cache, after the report (cold only). */
  saveMs: number;
  peakRssMb: number;
  /** What the cache gave: none (cold) or report (warm). */
  used: string;
}

function child(mode: 'bare' | 'cold' | 'warm', file: string): Measure {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'lib/analyzeChild.ts'), mode, file, EXPERIMENT],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`bench/lib/analyzeChild.ts ${mode} exited ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measure;
}

const sizes = process.argv.slice(2).map(Number);
const N = sizes.length ? sizes : quick ? [100_000] : [100_000, 1_000_000, 10_000_000];
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
for (const n of N) {
  const file = logFile(n);
  const mb = statSync(file).size / 1e6;
  // Page cache warmed by one bare pass first, so neither side pays the disk; then bare and
  // cold alternate, and the fastest of each counts (the least disturbed by other load).
  child('bare', file);
  const rounds = n >= 10_000_000 ? 1 : 3;
  const bares: Measure[] = [];
  const colds: Measure[] = [];
  const warms: Measure[] = [];
  for (let i = 0; i < rounds; i++) {
    bares.push(child('bare', file));
    colds.push(child('cold', file));
    warms.push(child('warm', file));
  }
  const fastest = (ms: Measure[]): Measure => ms.reduce((a, b) => (b.ms < a.ms ? b : a));
  const [bare, cold, warm] = [fastest(bares), fastest(colds), fastest(warms)];
  if (colds.some((m) => m.used !== 'none') || warms.some((m) => m.used !== 'report'))
    throw new Error('the cache was not used as expected');
  const tag = n.toExponential(0).replace('+', '');
  const cpuRatio = cold.cpuMs / bare.cpuMs;
  console.log(
    [
      `${n.toLocaleString('en-US')} events (${mb.toFixed(0)} MB, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores):`,
      `  bare read + JSON.parse  ${s(bare.ms)} wall, ${s(bare.cpuMs)} CPU, peak RSS ${bare.peakRssMb} MB`,
      `  cold analyze            ${s(cold.ms)} wall, ${s(cold.cpuMs)} CPU, peak RSS ${cold.peakRssMb} MB, ${Math.round(n / (cold.ms / 1000)).toLocaleString('en-US')} events/s`,
      `  cold ÷ bare             ${(cold.ms / bare.ms).toFixed(2)}× wall, ${cpuRatio.toFixed(2)}× CPU (target ≤ 1.5×)`,
      `  cache written after the report in ${s(cold.saveMs)}`,
      `  warm analyze            ${s(warm.ms)} wall, peak RSS ${warm.peakRssMb} MB (target ≤ 0.5 s)`,
    ].join('\n'),
  );
  record({
    id: `analyze.coldVsBare.${tag}`,
    label: `analyze ${tag} events cold ÷ bare read + JSON.parse (CPU time)`,
    value: cpuRatio,
    unit: '×',
    better: 'lower',
    ratio: true,
    target: 1.5,
  });
  record({
    id: `analyze.warmVsCold.${tag}`,
    label: `analyze ${tag} events warm ÷ cold`,
    value: warm.ms / cold.ms,
    unit: '×',
    better: 'lower',
    ratio: true,
  });
  record({
    id: `analyze.cold.${tag}`,
    label: `analyze ${tag} events cold`,
    value: cold.ms / 1000,
    unit: 's',
    better: 'lower',
    ratio: false,
  });
  record({
    id: `analyze.warm.${tag}`,
    label: `analyze ${tag} events warm`,
    value: warm.ms / 1000,
    unit: 's',
    better: 'lower',
    ratio: false,
    ...(n === 1_000_000 ? { target: 0.5 } : {}),
  });
  record({
    id: `analyze.peakRss.${tag}`,
    label: `analyze ${tag} events cold, peak RSS`,
    value: cold.peakRssMb,
    unit: 'MB',
    better: 'lower',
    ratio: false,
  });
}
if (process.env.BENCH_CLEAN) rmSync(LOG_DIR, { recursive: true, force: true });
