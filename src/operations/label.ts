/**
 * `label`: posts delayed ground truth to an experiment's router by request id — from a file
 * (JSON Lines or a JSON array of `{"requestId", "label"}`, or a CSV with `requestId` and
 * `label` columns) or one `--id`/`--label` pair. Posted in batches the router accepts whole
 * (10,000 labels); a request's latest label counts, so posting a file again is harmless.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseCsv } from '../core/drift';
import { routerFailure, type OperationOptions, type Runtime } from '../runtime/runtime';
import type { LabelEntry } from '../shared/routerApi';
import { usageError } from './errors';

/** Labels per POST: the router's limit for one all-or-nothing batch. */
export const LABEL_BATCH = 10_000;

export interface LabelInput {
  experiment: string;
  /** A .jsonl/.ndjson, .json or .csv file of labels. */
  file?: string;
  /** One label: the request's x-request-id and its true class or value. */
  requestId?: string;
  label?: string;
}

export interface LabelResult {
  experiment: string;
  accepted: number;
}

const ID_COLUMNS = ['requestId', 'request_id', 'x-request-id', 'id'];

/** A label as typed on a command line or in a CSV cell: a number when it reads as one. */
export function labelValue(raw: string): number | string {
  const trimmed = raw.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function entryOf(value: unknown, where: string): LabelEntry {
  const o = value as { requestId?: unknown; label?: unknown } | null;
  const id = o?.requestId;
  const label = o?.label;
  if (typeof id !== 'string' || id === '' || (typeof label !== 'number' && typeof label !== 'string'))
    throw usageError(`${where}: expected {"requestId": "<x-request-id>", "label": <class or value>}`);
  return { requestId: id, label };
}

/** The labels of a file, by its extension; a usage error names the line that is wrong. */
export function parseLabels(text: string, file: string): LabelEntry[] {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') {
    const { columns, rows } = parseCsv(text);
    const idColumn = ID_COLUMNS.find((c) => columns.includes(c));
    if (!idColumn || !columns.includes('label'))
      throw usageError(
        `${file}: a labels CSV needs a "requestId" and a "label" column (its header is: ${columns.join(', ') || 'empty'})`,
      );
    return rows.map((row, i) => {
      const id = row[idColumn];
      const label = row.label;
      if (id === undefined || label === undefined)
        throw usageError(`${file}:${i + 2}: the row needs both a ${idColumn} and a label`);
      return { requestId: String(id), label: typeof label === 'number' ? label : labelValue(label) };
    });
  }
  if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw usageError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw usageError(`${file}: expected a JSON array of {"requestId", "label"}`);
    return parsed.map((v, i) => entryOf(v, `${file} [${i}]`));
  }
  if (ext !== '.jsonl' && ext !== '.ndjson')
    throw usageError(`${file}: give a .jsonl, .ndjson, .json or .csv file of labels`);
  const entries: LabelEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw usageError(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    entries.push(entryOf(parsed, `${file}:${i + 1}`));
  });
  return entries;
}

/** Reads the labels the input names. */
async function labelsOf(input: LabelInput): Promise<LabelEntry[]> {
  const single = input.requestId !== undefined || input.label !== undefined;
  if (input.file && single) throw usageError('give either a file of labels or --id and --label, not both');
  if (single) {
    if (!input.requestId || input.label === undefined || input.label.trim() === '')
      throw usageError('give both --id (the request’s x-request-id) and --label (its true class or value)');
    return [{ requestId: input.requestId, label: labelValue(input.label) }];
  }
  if (!input.file) throw usageError('give a file of labels (--file labels.jsonl|.csv) or --id and --label');
  let text: string;
  try {
    text = await readFile(input.file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${input.file}: ${(err as Error).message}`);
  }
  const entries = parseLabels(text, input.file);
  if (entries.length === 0) throw usageError(`${input.file} holds no labels`);
  return entries;
}

/** Posts the labels; a batch the router refuses names how many went in before it. */
export async function postLabels(
  runtime: Runtime,
  input: LabelInput,
  options: OperationOptions = {},
): Promise<LabelResult> {
  if (!input.experiment) throw usageError('which experiment?');
  const entries = await labelsOf(input);
  const router = await runtime.router();
  let accepted = 0;
  for (let start = 0; start < entries.length; start += LABEL_BATCH) {
    const batch = entries.slice(start, start + LABEL_BATCH);
    const before =
      accepted > 0
        ? ` after ${accepted} were accepted (posting the file again is harmless: the latest label wins)`
        : '';
    accepted += await router
      .labels(input.experiment, batch, options.signal)
      .catch(
        routerFailure(
          `labels ${start + 1}–${start + batch.length} for ${input.experiment} were refused${before}`,
        ),
      );
    options.onProgress?.(`${accepted} of ${entries.length} labels accepted`);
  }
  return { experiment: input.experiment, accepted };
}
