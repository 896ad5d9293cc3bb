/**
 * The pass of `model-canary analyze` over an event log: each line parsed, checked (the fast
 * check of src/core/log/fastCheck.ts, the full checks of ./events.ts for what it does not
 * accept) and fed to a report builder; without a run named, a new builder at each run start,
 * so the last run's is left. Its state is plain enough to be cached between calls
 * (src/cli/analyzeCache.ts): the builder (a checkpoint), the runs, the malformed lines, the
 * clock and the position in the file.
 */
import type { ExperimentEvent } from '../../shared/events';
import type { RunInfo } from '../../shared/report';
import { fastEvent } from '../log/fastCheck';
import { scanEvent } from '../log/lineScanner';
import type { ReferenceData } from '../drift';
import type { Experiment } from '../spec/experiment';
import { parseEventLine } from './events';
import { ReportBuilder } from './reportBuilder';

export interface MalformedLine {
  line: number;
  error: string;
}

export class LogAnalysis {
  builder: ReportBuilder;
  readonly runs: RunInfo[] = [];
  readonly malformed: MalformedLine[] = [];
  /** The newest event's ts (of the run named, with a run). */
  lastTs = 0;
  private readonly name: string;

  constructor(
    readonly experiment: Experiment,
    readonly reference: ReferenceData | undefined,
    /** The run named (`--run`); undefined: the last run in the log. */
    readonly run: string | undefined,
  ) {
    this.name = experiment.metadata.name;
    this.builder = new ReportBuilder(experiment, { reference, run });
    this.builderRun = run;
  }

  /** The run the current builder covers (its options, with the reference). */
  builderRun: string | undefined;

  /** One line of the log (its 1-based number in the file). */
  line(text: string, lineNo: number): void {
    let event: ExperimentEvent | undefined;
    if (text.charCodeAt(0) === 123 /* { */) {
      try {
        event = fastEvent(JSON.parse(text));
      } catch {
        // Not JSON: the full check below says why.
      }
    } else if (!text.trim()) return;
    if (!event) {
      const parsed = parseEventLine(text);
      if (!parsed.ok) {
        this.malformed.push({ line: lineNo, error: parsed.error });
        return;
      }
      event = parsed.event;
    }
    this.event(event);
  }

  /**
   * One line of the log as bytes, when the line scanner (src/core/log/lineScanner.ts) decodes it:
   * false sends it to `line` (decoded, parsed and checked as before).
   */
  bytes(buf: Buffer, start: number, end: number): boolean {
    const event = scanEvent(buf, start, end);
    if (event === undefined) return false;
    this.event(event);
    return true;
  }

  private event(event: ExperimentEvent): void {
    const { name, run, runs } = this;
    if (event.type === 'run' && event.experiment === name) {
      runs.push({ id: event.run, startedAt: event.ts, ...(event.reason ? { reason: event.reason } : {}) });
      if (run === undefined) {
        this.builder = new ReportBuilder(this.experiment, { reference: this.reference, run: event.run });
        this.builderRun = event.run;
        this.lastTs = 0;
      }
    }
    // The report is as of the last event (of the run named, with --run).
    if (run === undefined || (event.experiment === name && runOf(event, runs) === run))
      this.lastTs = Math.max(this.lastTs, event.ts);
    this.builder.ingest(event);
  }
}

/** The run an event belongs to: its own `run`, else the run started last before it. */
function runOf(event: ExperimentEvent, runs: readonly RunInfo[]): string | undefined {
  if (event.type === 'run') return event.run;
  const own =
    event.type === 'request' || event.type === 'feedback' || event.type === 'label' ? event.run : undefined;
  return own ?? runs.at(-1)?.id;
}
