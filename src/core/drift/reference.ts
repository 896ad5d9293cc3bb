/**
 * Reference data for drift: the experiment's `drift.reference` CSV, parsed without I/O.
 *
 * CSV per RFC 4180: the first record is the header; fields are separated by commas; a field in
 * double quotes may contain commas, line breaks and doubled quotes (""); CRLF or LF line ends;
 * a leading byte-order mark is ignored; blank lines are skipped. A record shorter than the
 * header leaves the remaining columns missing; extra fields are ignored.
 *
 * Types are detected per column, as pandas.read_csv does by default: a column whose non-missing
 * cells all parse as decimal numbers is numeric (its cells become numbers); otherwise every
 * non-empty cell stays a string. Missing cells (empty, or NA/NaN/nan/null/NULL in a numeric
 * column) are left out of the row object.
 */

export interface ReferenceData {
  columns: string[];
  rows: Record<string, string | number>[];
  /** The reference of the model's input (`drift.modelInput.reference`), when the experiment has one. */
  modelInput?: ReferenceData;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NA_TOKENS = new Set(['NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '-nan', '-NaN']);

/** Parse reference CSV text into columns and rows, with numbers detected per column. */
export function parseCsv(text: string): ReferenceData {
  const records = splitRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const header = records.shift();
  if (header === undefined) return { columns: [], rows: [] };
  const columns = header.map((c) => c.trim());
  const numeric = columns.map((_, ci) => {
    let numbers = 0;
    for (const r of records) {
      const cell = (r[ci] ?? '').trim();
      if (cell === '' || NA_TOKENS.has(cell)) continue;
      if (!NUMBER.test(cell)) return false;
      numbers++;
    }
    return numbers > 0;
  });
  const rows = records.map((r) => {
    const row: Record<string, string | number> = {};
    columns.forEach((name, ci) => {
      const raw = r[ci];
      if (raw === undefined) return;
      if (numeric[ci]) {
        const cell = raw.trim();
        if (cell !== '' && !NA_TOKENS.has(cell)) row[name] = Number(cell);
      } else if (raw.trim() !== '') {
        row[name] = raw;
      }
    });
    return row;
  });
  return { columns, rows };
}

/** Split CSV text into records of raw (unquoted) fields. */
function splitRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  const endRecord = (): void => {
    record.push(field);
    // A record that is a single empty, unquoted field is a blank line.
    if (!(record.length === 1 && record[0] === '' && !fieldWasQuoted)) records.push(record);
    record = [];
    field = '';
    fieldWasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
      fieldWasQuoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
      fieldWasQuoted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += ch;
    }
  }
  if (field !== '' || record.length > 0 || fieldWasQuoted) endRecord();
  return records;
}
