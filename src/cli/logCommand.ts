/** `model-canary log check|repair <dir>`: verify a router's event log, or rewrite it without the lines that are not events. */
import { checkLog, repairLog, type LogCheckResult } from '../operations/eventLog';
import { jsonOption, onInterrupt, output, progress, UsageError, type Command } from './command';

const LOG_HELP = [
  "check: reads every line of the event log in <dir> (the router's dataDir) and lists those that are",
  'not events (not JSON, or not the event schema), with segment, line and byte offset. Exit 1 when',
  'there are any. The router skips such lines at start and keeps them in <dir>/quarantine.jsonl.',
  'repair: copies the segments that hold them to <dir>/backup-<time>/ and rewrites them without',
  'those lines (and without a torn last line). Stop the router first.',
].join('\n');

function text(r: LogCheckResult & { backup?: string; rewritten?: string[] }): string {
  const lines = [
    `${r.dir}: ${r.segments} segments, ${r.lines.toLocaleString('en-US')} lines, ${r.bad.length} not events${
      r.torn.length ? `, ${r.torn.length} torn tails` : ''
    }`,
    ...r.bad.map((b) => `  ${b.segment}:${b.line} (byte ${b.offset}): ${b.reason} — ${b.excerpt}`),
    ...r.torn.map((t) => `  ${t.segment}: ${t.bytes} bytes after the last newline (a torn write)`),
    ...(r.compacted ? [`  ${r.compacted.note}`] : []),
  ];
  if (r.rewritten !== undefined)
    lines.push(
      r.backup ? `rewrote ${r.rewritten.join(', ')}; the originals are in ${r.backup}` : 'nothing to repair',
    );
  else if (r.bad.length > 0 || r.torn.length > 0) lines.push(`fix: model-canary log repair ${r.dir}`);
  return lines.join('\n');
}

export const logCommand: Command = {
  summary: "check a router's event log, or repair it (removes the lines that are not events, keeps a backup)",
  usage: 'model-canary log check|repair <dir> [--json]',
  help: LOG_HELP,
  options: { ...jsonOption },
  async run(v, [action, dir]) {
    if (action !== 'check' && action !== 'repair')
      throw new UsageError('log check <dir> or log repair <dir>');
    if (!dir) throw new UsageError(`which folder? model-canary log ${action} .model-canary/data`);
    const abort = onInterrupt();
    const opts = { signal: abort.signal, onProgress: progress(Boolean(v.json)) };
    if (action === 'check') {
      const result = await checkLog({ dir }, opts);
      output(v, result, text);
      return result.bad.length > 0 || result.torn.length > 0 ? 1 : 0;
    }
    const result = await repairLog({ dir }, opts);
    output(v, result, text);
    return 0;
  },
};
