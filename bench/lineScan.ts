/**
 * The line scanner (src/core/log/lineScanner.ts) against the path it short-cuts, on the same
 * lines in the same run: each line of bench/analyze.ts's log decoded from the chunk's bytes and
 * JSON.parse'd then fast-checked, or scanned from the bytes. Alternating rounds, the fastest of
 * each counts; prints ns per line and how many lines each accepted (they must be equal).
 *   node --import tsx bench/lineScan.ts [events] [rounds]
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fastEvent } from '../src/core/log/fastCheck';
import { scanEvent } from '../src/core/log/lineScanner';

const events = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);
const data = readFileSync(join(homedir(), `.cache/model-canary/bench/analyze-v1-${events}.jsonl`));
const starts: number[] = [];
const ends: number[] = [];
for (let s = 0; s < data.length;) {
  let nl = data.indexOf(10, s);
  if (nl < 0) nl = data.length;
  starts.push(s);
  ends.push(nl);
  s = nl + 1;
}

function parsePass(): number {
  let ok = 0;
  for (let i = 0; i < starts.length; i++)
    if (fastEvent(JSON.parse(data.toString('utf8', starts[i], ends[i])))) ok++;
  return ok;
}

function scanPass(): number {
  let ok = 0;
  for (let i = 0; i < starts.length; i++) if (scanEvent(data, starts[i]!, ends[i]!)) ok++;
  return ok;
}

const best = { parse: Infinity, scan: Infinity };
const accepted = { parse: 0, scan: 0 };
for (let r = 0; r < rounds; r++) {
  for (const [name, pass] of [
    ['parse', parsePass],
    ['scan', scanPass],
  ] as const) {
    const t0 = performance.now();
    accepted[name] = pass();
    best[name] = Math.min(best[name], performance.now() - t0);
  }
}
const ns = (ms: number): string => ((ms * 1e6) / starts.length).toFixed(0);
console.log(
  `${starts.length} lines, ${(data.length / starts.length).toFixed(0)} bytes each on average, best of ${rounds}:`,
);
console.log(`  decode + JSON.parse + fast check  ${ns(best.parse)} ns/line, ${accepted.parse} accepted`);
console.log(`  scan                              ${ns(best.scan)} ns/line, ${accepted.scan} accepted`);
console.log(`  scan ÷ parse                      ${(best.scan / best.parse).toFixed(2)}×`);
