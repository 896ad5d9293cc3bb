/** `model-canary label`: ground truth for an experiment's requests (CLI-only: a job for scripts, not the palette). */
import { postLabels } from '../operations/label';
import {
  jsonOption,
  onInterrupt,
  output,
  progress,
  UsageError,
  type CliContext,
  type Command,
} from './command';
import { environmentOptions, environmentUsage, runtimeFromFlags } from './environment';

const LABEL_HELP = [
  'Posts delayed ground truth by request id (the x-request-id the router answered with): the true class',
  "of a classifier's request, or the true value of a regressor's. The report scores each variant's",
  "recorded predictions against them (spec.metrics.model; docs/model-metrics.md). A request's latest",
  'label counts, so posting a file again is harmless. Files: .jsonl/.ndjson or .json with',
  '{"requestId": "...", "label": 1} per label, or .csv with requestId and label columns.',
].join('\n');

export function labelCommand(ctx: CliContext): Command {
  return {
    summary: "post ground truth (true classes or values) for an experiment's requests, by request id",
    usage: `model-canary label <experiment> (--file labels.jsonl|.csv | --id REQUEST_ID --label VALUE) ${environmentUsage} [--json]`,
    help: LABEL_HELP,
    options: {
      ...environmentOptions,
      file: { type: 'string' },
      id: { type: 'string' },
      label: { type: 'string' },
      ...jsonOption,
    },
    async run(v, [experiment]) {
      if (!experiment) throw new UsageError('which experiment?');
      const abort = onInterrupt();
      const result = await postLabels(
        runtimeFromFlags(ctx, v),
        {
          experiment,
          file: v.file as string | undefined,
          requestId: v.id as string | undefined,
          label: v.label as string | undefined,
        },
        { signal: abort.signal, onProgress: progress(Boolean(v.json)) },
      );
      output(v, result, (r) => `${r.experiment}: ${r.accepted.toLocaleString('en-US')} labels accepted`);
      return 0;
    },
  };
}
