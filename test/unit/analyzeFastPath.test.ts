import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { analyzeEventsFile } from '../../src/cli/analyze';
import { shapeOf } from '../../src/core/analysis/events';
import { formatReportText } from '../../src/core/analysis/format';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { readLines } from '../../src/core/log/lineReader';
import { checkEventSchema } from '../../src/core/log/eventSchema';
import { loadExperimentFile } from '../../src/core/spec/experiment';
import { parseCsv } from '../../src/core/drift';
import type { RunInfo } from '../../src/shared/report';
import { mixedLog } from '../harness/mixedLog';

const EXPERIMENT = join(import.meta.dirname, '../../sample-models/experiments/propensity.yaml');
const REFERENCE = join(import.meta.dirname, '../../sample-models/data/reference.csv');

/** analyze as it was before the fast path: readline, every line through the shape checks and zod. */
async function previousAnalyze(file: string, run?: string) {
  const experiment = await loadExperimentFile(EXPERIMENT);
  const { readFileSync } = await import('node:fs');
  const reference = parseCsv(readFileSync(REFERENCE, 'utf8'));
  const name = experiment.metadata.name;
  let builder = new ReportBuilder(experiment, { reference, run });
  const runs: RunInfo[] = [];
  const malformed: { line: number; error: string }[] = [];
  let lineNo = 0;
  let lastTs = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    lineNo++;
    if (!line.trim()) continue;
    let parsed = shapeOf(line);
    if (parsed.ok) {
      const checked = checkEventSchema(parsed.event);
      if (!checked.ok) parsed = { ok: false, error: checked.reason };
    }
    if (!parsed.ok) {
      malformed.push({ line: lineNo, error: parsed.error });
      continue;
    }
    const event = parsed.event;
    if (event.type === 'run' && event.experiment === name) {
      runs.push({ id: event.run, startedAt: event.ts, ...(event.reason ? { reason: event.reason } : {}) });
      if (run === undefined) {
        builder = new ReportBuilder(experiment, { reference, run: event.run });
        lastTs = 0;
      }
    }
    const own =
      event.type === 'request' || event.type === 'feedback' || event.type === 'label' ? event.run : undefined;
    const eventRun = event.type === 'run' ? event.run : (own ?? runs.at(-1)?.id);
    if (run === undefined || (event.experiment === name && eventRun === run))
      lastTs = Math.max(lastTs, event.ts);
    builder.ingest(event);
  }
  return { report: builder.report(lastTs || Date.now()), malformed, runs };
}

describe('analyze at disk speed gives the report the previous path gave', () => {
  let dir: string;
  let log: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mc-analyze-fast-'));
    log = join(dir, 'events.jsonl');
    writeFileSync(log, mixedLog(30_000));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const run of [undefined, 'r1']) {
    it(`byte-equal report, malformed lines and runs on a log with every event type (${run ? `--run ${run}` : 'last run'})`, async () => {
      const before = await previousAnalyze(log, run);
      const now = await analyzeEventsFile(log, EXPERIMENT, run);
      assert.equal(JSON.stringify(now.report), JSON.stringify(before.report));
      assert.equal(formatReportText(now.report), formatReportText(before.report));
      assert.deepEqual(now.malformed, before.malformed);
      assert.deepEqual(now.runs, before.runs);
      assert.ok(before.malformed.length > 20, `only ${before.malformed.length} malformed lines`);
      assert.ok(before.report.variants.every((v) => v.requests > 100));
    });
  }

  it('reads a pipe as before (`--events <(zcat log.gz)`), without a cache', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${log}" > "${fifo}"`]);
    const written = new Promise((done) => writer.once('exit', done));
    const piped = await analyzeEventsFile(fifo, EXPERIMENT, undefined, { cache: true });
    await written;
    assert.equal(piped.cache.used, 'off');
    assert.equal(
      JSON.stringify(piped.report),
      JSON.stringify((await analyzeEventsFile(log, EXPERIMENT)).report),
    );
  });

  it('splits lines where readline does, whatever the chunk size (CRLF, lone CR, UTF-8 across chunks)', async () => {
    const file = join(dir, 'lines.txt');
    writeFileSync(file, 'a\r\nbé\rc\r\r\n\n\n€uro\r\r\rx\nlast\r');
    const expected: string[] = [];
    for await (const l of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity }))
      expected.push(l);
    for (const chunkBytes of [1, 2, 3, 5, 64]) {
      const got: string[] = [];
      await readLines(file, (l, n) => got.push(`${n}:${l}`), { chunkBytes });
      assert.deepEqual(
        got,
        expected.map((l, i) => `${i + 1}:${l}`),
        `chunk ${chunkBytes}`,
      );
    }
  });
});
