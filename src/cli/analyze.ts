/** `model-canary analyze`: the router's report, computed offline from an event log. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LogAnalysis } from '../core/analysis/logAnalysis';
import { readLines } from '../core/log/lineReader';
import { formatReportText } from '../core/analysis/format';
import { SpecError } from '../core/spec/errors';
import { loadExperimentFile, type Experiment } from '../core/spec/experiment';
import { parseCsv } from '../core/drift';
import { AnalyzeCache, fileId, type AnalyzeResult, type CacheUse } from './analyzeCache';
import { UsageError, type Command } from './command';

const MAX_LISTED = 20;

export interface AnalyzeOptions {
  /** Use and write the analyze cache (./analyzeCache.ts); the CLI's default, off here. */
  cache?: boolean;
  /** Where a cache that does not fit is reported (default: stderr). */
  warn?: (message: string) => void;
}

export const analyzeCommand: Command = {
  summary: 'compute the experiment report offline from an event log (JSON Lines)',
  usage:
    'model-canary analyze --events <file.jsonl> --experiment <experiment.yaml> [--run ID] [--json] [--no-cache]',
  help: [
    "Reads the router's event log and prints the same report the router serves: a table, or JSON with --json.",
    'Malformed lines are SKIPPED, counted and listed with their line numbers on stderr (and in',
    '"malformedLines" with --json); they never stop the analysis.',
    "The drift reference is the experiment's spec.drift.reference, relative to the experiment file.",
    'Each deploy starts a run: the report covers the last run in the log, or the one --run names',
    '(the runs found are listed in "runs" with --json).',
    'What a pass found is cached beside the log (.model-canary-cache/, else ~/.cache/model-canary/analyze):',
    'the next analyze of the same log and experiment reads only the cache, or only what was appended to the',
    'log since (docs/engine.md); "cache" in --json says which. --no-cache reads the whole log and writes nothing.',
    'Exit codes: 0 report printed; 2 a missing or invalid input file (events, experiment or reference).',
  ].join('\n'),
  options: {
    events: { type: 'string' },
    experiment: { type: 'string' },
    run: { type: 'string' },
    json: { type: 'boolean', default: false },
    'no-cache': { type: 'boolean', default: false },
  },
  async run(v) {
    const eventsFile = v.events as string | undefined;
    const experimentFile = v.experiment as string | undefined;
    if (!eventsFile || !experimentFile) throw new UsageError('both --events and --experiment are required');
    const run = v.run as string | undefined;
    if (run !== undefined && !run.trim()) throw new UsageError('--run needs a run id');
    const { report, malformed, runs, cache, save } = await analyzeEventsFile(
      eventsFile,
      experimentFile,
      run,
      {
        cache: !v['no-cache'],
      },
    );
    if (v.json) {
      console.log(
        JSON.stringify(
          {
            ...report,
            runs,
            malformedLines: { count: malformed.length, lines: malformed.slice(0, MAX_LISTED) },
            cache,
          },
          null,
          2,
        ),
      );
    } else {
      console.log(formatReportText(report));
    }
    if (malformed.length) {
      const listed = malformed.slice(0, MAX_LISTED).map((m) => `  ${eventsFile}:${m.line}: ${m.error}`);
      const more = malformed.length > MAX_LISTED ? [`  … and ${malformed.length - MAX_LISTED} more`] : [];
      console.error([`skipped ${malformed.length} malformed line(s):`, ...listed, ...more].join('\n'));
    }
    // After the report is out: the cache for the next run.
    await save();
    return 0;
  },
};

/**
 * The report of an event log, as of its last event (so the same log always gives the same report):
 * of the last run in the log, or of `run`.
 */
export async function analyzeEventsFile(
  eventsFile: string,
  experimentFile: string,
  run?: string,
  options: AnalyzeOptions = {},
): Promise<AnalyzeResult & { cache: CacheUse; save: () => Promise<void> }> {
  const warn = options.warn ?? ((m: string) => console.error(`warning: ${m}`));
  if (!existsSync(eventsFile)) throw new UsageError(`the events file ${eventsFile} does not exist`);
  let experiment: Experiment;
  try {
    experiment = await loadExperimentFile(resolve(experimentFile));
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`invalid experiment file:\n${err.message}`);
    throw err;
  }
  const reference = await loadReference(experiment);
  const name = experiment.metadata.name;
  const fresh = () => new LogAnalysis(experiment, reference, run);
  const before = await fileId(eventsFile);
  const cache =
    !options.cache || !before.regular
      ? undefined
      : await AnalyzeCache.open(eventsFile, experiment, reference, run, warn);
  const use: CacheUse = { used: cache ? 'none' : 'off', dir: cache?.dir, cachedBytes: 0, readBytes: 0 };
  const cached = await cache?.report(before);
  if (cached)
    return { ...cached, cache: { ...use, used: 'report', cachedBytes: before.size }, save: async () => {} };
  const resumed = await cache?.resume(before, fresh);
  const analysis = resumed?.analysis ?? fresh();
  if (resumed) Object.assign(use, { used: 'state', cachedBytes: resumed.position });
  const read = await readLines(eventsFile, (line, lineNo) => analysis.line(line, lineNo), {
    start: resumed?.position ?? 0,
    firstLine: resumed?.lines ?? 0,
    bytes: (buf, start, end) => analysis.bytes(buf, start, end),
  });
  use.readBytes = read.bytes - use.cachedBytes;
  const { builder, runs, malformed, lastTs } = analysis;
  if (run !== undefined && !runs.some((r) => r.id === run))
    throw new UsageError(
      `no run "${run}" of ${name} in ${eventsFile} — its runs are ${runs.map((r) => r.id).join(', ') || 'none (every event belongs to the log as a whole)'}`,
    );
  const result = {
    report: builder.report(lastTs || Date.now()),
    malformed,
    orphanFeedback: builder.orphanFeedbackCount,
    runs,
  };
  const after = await fileId(eventsFile);
  // A log written to while it was read is not cached, nor a report as of now (no event of the run).
  const unchanged =
    lastTs !== 0 && after.size === read.bytes && after.mtimeMs === before.mtimeMs && after.ino === before.ino;
  return {
    ...result,
    cache: use,
    save: async () => {
      if (cache && unchanged)
        await cache.save(after, result, analysis, read.terminated ? read.bytes : -1, read.lines);
    },
  };
}

async function loadReference(experiment: Experiment): Promise<ReturnType<typeof parseCsv> | undefined> {
  const drift = experiment.spec.drift;
  if (!drift) return undefined;
  const reference = await loadCsv(experiment, drift.reference, 'spec.drift.reference');
  if (drift.modelInput)
    reference.modelInput = await loadCsv(
      experiment,
      drift.modelInput.reference,
      'spec.drift.modelInput.reference',
    );
  return reference;
}

async function loadCsv(
  experiment: Experiment,
  path: string,
  field: string,
): Promise<ReturnType<typeof parseCsv>> {
  const file = resolve(dirname(experiment.file), path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `the drift reference ${file} (${field} in ${experiment.file}) cannot be read — check the path, it is relative to the experiment file`,
    );
  }
  try {
    return parseCsv(text);
  } catch (err) {
    throw new UsageError(`the drift reference ${file} is not a valid CSV: ${(err as Error).message}`);
  }
}
