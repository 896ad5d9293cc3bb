/**
 * Whether a cold `analyze` stays bounded by its windows on a big log: the id table's growth
 * (every doubling, with the sweeps before it, RSS and ArrayBuffer memory then) during an
 * in-process `analyze` of a log bench/analyze.ts generated, and the memory at the end before and
 * after a full GC (`--expose-gc`). The id memories keep two generations of `idMemory` ids each,
 * so the table stops doubling once a sweep frees a quarter of it; the ArrayBuffers then hold
 * the same at 10^7 and 2·10^7 events (docs/engine.md, "Growth").
 *
 *   node --expose-gc --import tsx bench/idTableGrowth.ts [events]
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { analyzeEventsFile } from '../src/cli/analyze';
import { IdTable } from '../src/core/analysis/idTable';

const events = Number(process.argv[2] ?? 10_000_000);
const log = join(homedir(), `.cache/model-canary/bench/analyze-v1-${events}.jsonl`);
if (!existsSync(log))
  throw new Error(
    `no log of ${events} events at ${log}: run node --import tsx bench/analyze.ts ${events} first`,
  );
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const mb = (x: number): string => `${Math.round(x / 2 ** 20)} MB`;
const memory = (): string => {
  const m = process.memoryUsage();
  return `RSS ${mb(m.rss)}, heap used ${mb(m.heapUsed)}, ArrayBuffers ${mb(m.arrayBuffers)}`;
};
// The table's private methods, wrapped to watch them (a bench only: the build is not touched).
const table = IdTable.prototype as unknown as { grow(c: number): void; makeRoom(): void };
const { grow, makeRoom } = table;
let sweeps = 0;
const t0 = performance.now();
const at = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
table.makeRoom = function (this: unknown) {
  sweeps++;
  makeRoom.call(this);
};
table.grow = function (this: unknown, capacity: number) {
  console.log(`  ${at()}: the table grows to ${capacity} slots after ${sweeps} sweeps (${memory()})`);
  grow.call(this, capacity);
};
console.log(`cold analyze of ${events} events (${log}):`);
const { report } = await analyzeEventsFile(
  log,
  join(import.meta.dirname, '../sample-models/experiments/propensity.yaml'),
  undefined,
  { cache: false },
);
const requests = report.variants.reduce((n, v) => n + v.requests, 0);
console.log(`  ${at()}: done, ${sweeps} sweeps, ${requests} requests in the report (${memory()})`);
gc();
console.log(`  after a full GC: ${memory()}`);
