/** `model-canary analyze`: the router's report, computed offline from an event log. */
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ReportBuilder } from '../core/analysis/reportBuilder';
import { parseEventLine } from '../core/analysis/events';
import { formatReportText } from '../core/analysis/format';
import { SpecError } from '../core/spec/errors';
import { loadExperimentFile, type Experiment } from '../core/spec/experiment';
import { parseCsv } from '../core/drift';
import type { Report } from '../shared/report';
import { UsageError, type Command } from './command';

const MAX_LISTED = 20;

export const analyzeCommand: Command = {
  summary: 'compute the experiment report offline from an event log (JSON Lines)',
  usage: 'model-canary analyze --events <file.jsonl> --experiment <experiment.yaml> [--json]',
  help: [
    "Reads the router's event log and prints the same report the router serves: a table, or JSON with --json.",
    'Malformed lines are SKIPPED, counted and listed with their line numbers on stderr (and in',
    '"malformedLines" with --json); they never stop the analysis.',
    "The drift reference is the experiment's spec.drift.reference, relative to the experiment file.",
    'Exit codes: 0 report printed; 2 a missing or invalid input file (events, experiment or reference).',
  ].join('\n'),
  options: {
    events: { type: 'string' },
    experiment: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(v) {
    const eventsFile = v.events as string | undefined;
    const experimentFile = v.experiment as string | undefined;
    if (!eventsFile || !experimentFile) throw new UsageError('both --events and --experiment are required');
    const { report, malformed } = await analyzeEventsFile(eventsFile, experimentFile);
    if (v.json) {
      console.log(
        JSON.stringify(
          { ...report, malformedLines: { count: malformed.length, lines: malformed.slice(0, MAX_LISTED) } },
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

/** The report of an event log, as of its last event (so the same log always gives the same report). */
export async function analyzeEventsFile(
  eventsFile: string,
  experimentFile: string,
): Promise<{ report: Report; malformed: { line: number; error: string }[]; orphanFeedback: number }> {
  if (!existsSync(eventsFile)) throw new UsageError(`the events file ${eventsFile} does not exist`);
  let experiment: Experiment;
  try {
    experiment = await loadExperimentFile(resolve(experimentFile));
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`invalid experiment file:\n${err.message}`);
    throw err;
  }
  const builder = new ReportBuilder(experiment, { reference: await loadReference(experiment) });
  const malformed: { line: number; error: string }[] = [];
  let lineNo = 0;
  let lastTs = 0;
  const lines = createInterface({ input: createReadStream(eventsFile, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const parsed = parseEventLine(line);
    if (!parsed.ok) {
      malformed.push({ line: lineNo, error: parsed.error });
      continue;
    }
    lastTs = Math.max(lastTs, parsed.event.ts);
    builder.ingest(parsed.event);
  }
  return {
    report: builder.report(lastTs || Date.now()),
    malformed,
    orphanFeedback: builder.orphanFeedbackCount,
  };
}

async function loadReference(experiment: Experiment): Promise<ReturnType<typeof parseCsv> | undefined> {
  const drift = experiment.spec.drift;
  if (!drift) return undefined;
  const file = resolve(dirname(experiment.file), drift.reference);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `the drift reference ${file} (spec.drift.reference in ${experiment.file}) cannot be read — check the path, it is relative to the experiment file`,
    );
  }
  try {
    return parseCsv(text);
  } catch (err) {
    throw new UsageError(`the drift reference ${file} is not a valid CSV: ${(err as Error).message}`);
  }
}
