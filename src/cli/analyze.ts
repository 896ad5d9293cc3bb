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
import type { Report, RunInfo } from '../shared/report';
import { UsageError, type Command } from './command';

const MAX_LISTED = 20;

export const analyzeCommand: Command = {
  summary: 'compute the experiment report offline from an event log (JSON Lines)',
  usage: 'model-canary analyze --events <file.jsonl> --experiment <experiment.yaml> [--run ID] [--json]',
  help: [
    "Reads the router's event log and prints the same report the router serves: a table, or JSON with --json.",
    'Malformed lines are SKIPPED, counted and listed with their line numbers on stderr (and in',
    '"malformedLines" with --json); they never stop the analysis.',
    "The drift reference is the experiment's spec.drift.reference, relative to the experiment file.",
    'Each deploy starts a run: the report covers the last run in the log, or the one --run names',
    '(the runs found are listed in "runs" with --json).',
    'Exit codes: 0 report printed; 2 a missing or invalid input file (events, experiment or reference).',
  ].join('\n'),
  options: {
    events: { type: 'string' },
    experiment: { type: 'string' },
    run: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(v) {
    const eventsFile = v.events as string | undefined;
    const experimentFile = v.experiment as string | undefined;
    if (!eventsFile || !experimentFile) throw new UsageError('both --events and --experiment are required');
    const run = v.run as string | undefined;
    if (run !== undefined && !run.trim()) throw new UsageError('--run needs a run id');
    const { report, malformed, runs } = await analyzeEventsFile(eventsFile, experimentFile, run);
    if (v.json) {
      console.log(
        JSON.stringify(
          {
            ...report,
            runs,
            malformedLines: { count: malformed.length, lines: malformed.slice(0, MAX_LISTED) },
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
): Promise<{
  report: Report;
  malformed: { line: number; error: string }[];
  orphanFeedback: number;
  runs: RunInfo[];
}> {
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
  const analysis = new LogAnalysis(experiment, reference, run);
  await readLines(eventsFile, (line, lineNo) => analysis.line(line, lineNo));
  const { builder, runs, malformed, lastTs } = analysis;
  if (run !== undefined && !runs.some((r) => r.id === run))
    throw new UsageError(
      `no run "${run}" of ${name} in ${eventsFile} — its runs are ${runs.map((r) => r.id).join(', ') || 'none (every event belongs to the log as a whole)'}`,
    );
  return {
    report: builder.report(lastTs || Date.now()),
    malformed,
    orphanFeedback: builder.orphanFeedbackCount,
    runs,
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
