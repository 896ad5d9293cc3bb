import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';
import { formatReportText } from '../../src/core/analysis/format';
import { mixedLog } from '../harness/mixedLog';

const SAMPLE = join(import.meta.dirname, '../../sample-models');

describe('the analyze cache (warm analyze)', () => {
  let dir: string;
  let log: string;
  let experiment: string;
  const warnings: string[] = [];
  const warn = (m: string): number => warnings.push(m);

  /** analyze with the cache, its cache written as the CLI does after printing. */
  async function cached(run?: string) {
    const r = await analyzeEventsFile(log, experiment, run, { cache: true, warn });
    await r.save();
    return r;
  }
  const full = (run?: string) => analyzeEventsFile(log, experiment, run);
  function same(a: Awaited<ReturnType<typeof full>>, b: Awaited<ReturnType<typeof full>>): void {
    assert.equal(JSON.stringify(a.report), JSON.stringify(b.report));
    assert.equal(formatReportText(a.report), formatReportText(b.report));
    assert.deepStrictEqual(a.report, b.report);
    assert.deepEqual([a.malformed, a.runs, a.orphanFeedback], [b.malformed, b.runs, b.orphanFeedback]);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mc-analyze-cache-'));
    log = join(dir, 'events.jsonl');
    // Ends with a whole line, so the pass's state is cached too.
    writeFileSync(log, `${mixedLog(8_000, 3)}\n`);
    experiment = join(dir, 'experiment.yaml');
    writeFileSync(
      experiment,
      readFileSync(join(SAMPLE, 'experiments/propensity.yaml'), 'utf8').replace(
        '../data/reference.csv',
        join(SAMPLE, 'data/reference.csv'),
      ),
    );
    warnings.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a warm analyze reads only the cache beside the log and gives the cold report', async () => {
    const cold = await cached();
    assert.equal(cold.cache.used, 'none');
    assert.equal(cold.cache.dir, join(dir, '.model-canary-cache'));
    assert.equal(readdirSync(cold.cache.dir!).length, 2);
    const warm = await cached();
    assert.deepEqual(warm.cache, {
      ...cold.cache,
      used: 'report',
      cachedBytes: cold.cache.readBytes,
      readBytes: 0,
    });
    same(warm, cold);
    same(warm, await full());
    // Another run is another cache.
    assert.equal((await cached('r1')).cache.used, 'none');
    assert.equal((await cached('r1')).cache.used, 'report');
    assert.deepEqual(warnings, []);
  });

  it('after appends, resumes from the cached state and reads only the new bytes', async () => {
    const cold = await cached();
    const size = cold.cache.readBytes;
    // More traffic, a new run and a malformed line.
    const more = mixedLog(3_000, 9).replaceAll('"r1"', '"r3"').replaceAll('"r2"', '"r4"');
    appendFileSync(log, `${more}\nnot json\n`);
    const grown = await cached();
    assert.equal(grown.cache.used, 'state');
    assert.equal(grown.cache.cachedBytes, size);
    assert.equal(grown.cache.readBytes, readFileSync(log).length - size);
    same(grown, await full());
    assert.ok(grown.runs.length > cold.runs.length && grown.malformed.length > cold.malformed.length);
    same(await cached(), grown);
  });

  it('is not used when the experiment or the log changes, and a corrupt cache is ignored with a warning', async () => {
    await cached();
    writeFileSync(experiment, readFileSync(experiment, 'utf8').replace('max: 50', 'max: 60'));
    const edited = await cached();
    assert.equal(edited.cache.used, 'none');
    same(edited, await full());
    // The same bytes in another file (a rewrite): neither the report nor the state fits.
    copyFileSync(log, `${log}.new`);
    renameSync(`${log}.new`, log);
    assert.equal((await cached()).cache.used, 'none');
    // A log edited in place, same inode: the report is stale, the state's tail differs.
    const text = readFileSync(log, 'utf8');
    writeFileSync(log, text.replace(/"latencyMs":[0-9.]+/g, '"latencyMs":1'));
    const rewritten = await cached();
    assert.equal(rewritten.cache.used, 'none');
    same(rewritten, await full());
    for (const f of readdirSync(rewritten.cache.dir!)) writeFileSync(join(rewritten.cache.dir!, f), '{"torn');
    const corrupt = await cached();
    assert.equal(corrupt.cache.used, 'none');
    same(corrupt, rewritten);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, /ignoring the analyze cache .*report\.json/);
  });

  it('a cache written by an older version is ignored with a warning and the log is read whole', async () => {
    const first = await cached();
    for (const f of readdirSync(first.cache.dir!)) {
      const file = join(first.cache.dir!, f);
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: 1 }));
    }
    const again = await cached();
    assert.equal(again.cache.used, 'none');
    same(again, await full());
    assert.ok(warnings.length >= 1 && warnings.every((w) => /another version/.test(w)), warnings.join('\n'));
  });
});
