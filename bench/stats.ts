/**
 * Cost of the A/B statistics a report computes per comparison. Prints ns/op; no
 * assertions (tests do not time things). Run: node --import tsx bench/stats.ts
 */
import {
  chanceToBeatBaseline,
  msprtPValue,
  newcombeDiffCI,
  relativeLiftCI,
  sampleRatioMismatch,
  twoProportionZTest,
  welchTTest,
} from '../src/core/stats';

let sink = 0;

/** Runs fn until about `budgetMs` has passed (after a warm-up) and returns ns per call. */
function measure(fn: (i: number) => number, budgetMs = 300): { nsPerOp: number; ops: number } {
  for (let i = 0; i < 200; i++) sink += fn(i);
  let ops = 0;
  let batch = 1;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(budgetMs) * 1_000_000n) {
    for (let i = 0; i < batch; i++) sink += fn(ops + i);
    ops += batch;
    batch = Math.min(batch * 2, 100_000);
    elapsed = process.hrtime.bigint() - start;
  }
  return { nsPerOp: Number(elapsed) / ops, ops };
}

// Counts vary with i so that nothing is constant-folded or cached.
const cases: [string, (i: number) => number][] = [
  [
    'z-test (95/5 split, 10^6 requests)',
    (i) => twoProportionZTest(95_000 + (i & 7), 950_000, 5_100, 50_000).pValue,
  ],
  ['Newcombe CI', (i) => newcombeDiffCI(95_000 + (i & 7), 950_000, 5_100, 50_000)[0]],
  ['relative-lift CI (log risk ratio)', (i) => relativeLiftCI(95_000 + (i & 7), 950_000, 5_100, 50_000)[0]],
  ['mSPRT p-value', (i) => msprtPValue(95_000 + (i & 7), 950_000, 5_100, 50_000, { tau2: 2.5e-5 }).pValue],
  ['chance to beat, small counts (12/100 vs 9/95)', (i) => chanceToBeatBaseline(9 + (i & 1), 95, 12, 100)],
  [
    'chance to beat, 10^6 requests (exact sum, ~5k terms)',
    (i) => chanceToBeatBaseline(95_000 + (i & 7), 950_000, 5_100, 50_000),
  ],
  [
    'chance to beat, 2·10^7 requests (quadrature)',
    (i) => chanceToBeatBaseline(1_000_000 + (i & 7), 10_000_000, 1_001_500, 10_000_000),
  ],
  ['SRM, 3 arms', (i) => sampleRatioMismatch([9_480 + (i & 7), 520, 300], [95, 5, 0]).pValue],
  [
    "Welch's t-test from moments",
    (i) => welchTTest({ n: 5000 + (i & 7), mean: 20, m2: 5e5 }, { n: 250, mean: 21, m2: 3e4 }).pValue,
  ],
];

console.log('A/B statistics, ns per call (Node ' + process.version + ')');
for (const [name, fn] of cases) {
  const { nsPerOp, ops } = measure(fn);
  console.log(`  ${name.padEnd(56)} ${nsPerOp.toFixed(0).padStart(10)} ns/op   (${ops} calls)`);
}
if (Number.isNaN(sink)) console.log('');
