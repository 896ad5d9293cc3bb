/**
 * One measured pass of bench/analyze.ts, in its own process so its peak RSS is its own:
 * `bare` (read in chunks, split into lines, JSON.parse each), `cold` (analyze with the log's
 * cache removed first; the cache is then written, timed apart: the CLI writes it after printing)
 * or `warm` (analyze with the cache in place). Prints one JSON line: wall and CPU time (user +
 * system, every thread of the process), which other load on the machine disturbs less.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';
import { readLines } from '../../src/core/log/lineReader';

const [mode, file, experiment] = process.argv.slice(2) as [string, string, string];
if (mode === 'cold') rmSync(join(dirname(file), '.model-canary-cache'), { recursive: true, force: true });
const t0 = performance.now();
const c0 = process.cpuUsage();
let cpuMs = 0;
let saveMs = 0;
let used = 'none';
let peakRssMb = 0;
if (mode === 'bare') {
  let objects = 0;
  await readLines(file, (line) => {
    if (JSON.parse(line)) objects++;
  });
  if (!objects) throw new Error('empty log');
  const c = process.cpuUsage(c0);
  cpuMs = (c.user + c.system) / 1000;
} else {
  const { report, cache, save } = await analyzeEventsFile(file, experiment, undefined, { cache: true });
  if (!report.variants.length) throw new Error('no variants');
  used = cache.used;
  const c = process.cpuUsage(c0);
  cpuMs = (c.user + c.system) / 1000;
  peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const t1 = performance.now();
  await save();
  saveMs = performance.now() - t1;
}
const ms = performance.now() - t0 - saveMs;
// The analysis's own peak: the cache is written after the report is out.
peakRssMb ||= Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify({ ms, cpuMs, saveMs, peakRssMb, used }));
