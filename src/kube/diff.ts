/**
 * What a dry-run apply would change, as text: both sides normalised (server-owned fields
 * stripped, keys sorted, large binary values summarised) and compared line by line into a
 * unified diff. The line diff is written here rather than taken from npm because the only one in
 * node_modules (`diff`) comes in through mocha, not as our dependency, and an LCS over trimmed
 * YAML is a few dozen lines.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

/** Fields the server owns or that change on every write; never part of a diff. */
export const STRIPPED_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
];

/** ConfigMap values longer than this are shown by size and digest. */
export const LONG_VALUE_LINES = 200;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A copy of `obj` without server-owned fields, with sorted keys and summarised binary data. */
export function normalizeForDiff(obj: unknown): Json {
  const plain = JSON.parse(JSON.stringify(obj ?? null)) as Json;
  if (!plain || typeof plain !== 'object' || Array.isArray(plain)) return plain;
  delete plain.status;
  const meta = plain.metadata;
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    for (const key of STRIPPED_METADATA) delete meta[key];
    const annotations = meta.annotations;
    if (annotations && typeof annotations === 'object' && !Array.isArray(annotations)) {
      // Written by the last client-side kubectl apply; noise next to server-side apply.
      delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
      if (Object.keys(annotations).length === 0) delete meta.annotations;
    }
  }
  const summarise = (map: Json | undefined, secret: boolean): void => {
    if (!map || typeof map !== 'object' || Array.isArray(map)) return;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') continue;
      const bytes = Buffer.from(v, 'base64');
      map[k] =
        `(${bytes.length} bytes${secret ? '' : `, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`})`;
    }
  };
  summarise(plain.binaryData, false);
  // A drift reference runs to thousands of lines; a change to it shows as a change of its digest.
  const data = plain.data;
  if (plain.kind === 'ConfigMap' && data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string') continue;
      const lines = v.split('\n').length;
      if (lines > LONG_VALUE_LINES)
        data[k] =
          `(${lines} lines, ${Buffer.byteLength(v)} bytes, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 16)})`;
    }
  }
  if (plain.kind === 'Secret') {
    summarise(plain.data, true);
    delete plain.stringData;
  }
  return sortKeys(plain);
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k] as Json)]),
    );
  return value;
}

/** The normalised YAML of an object (empty for undefined): what the diff compares. */
export function diffText(obj: unknown): string {
  if (obj === undefined) return '';
  return stringify(normalizeForDiff(obj), { lineWidth: 0 });
}

export type LineOp = { op: ' ' | '-' | '+'; line: string };

// Beyond this many DP cells (after trimming common ends) the changed block is shown replaced whole.
const MAX_CELLS = 4_000_000;

/** A minimal line edit script from `a` to `b` (longest common subsequence). */
export function lineDiff(a: readonly string[], b: readonly string[]): LineOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: LineOp[] = a.slice(0, start).map((line) => ({ op: ' ', line }));
  const tail: LineOp[] = a.slice(endA).map((line) => ({ op: ' ', line }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  const middle: LineOp[] = [];
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    middle.push(
      ...x.map((line): LineOp => ({ op: '-', line })),
      ...y.map((line): LineOp => ({ op: '+', line })),
    );
  } else {
    // lcs[i][j]: LCS length of x[i..] and y[j..], flattened.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * w + j] =
          x[i] === y[j]
            ? lcs[(i + 1) * w + j + 1]! + 1
            : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) {
        middle.push({ op: ' ', line: x[i]! });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        // Removals before additions, as diff(1) prints them.
        middle.push({ op: '-', line: x[i]! });
        i++;
      } else {
        middle.push({ op: '+', line: y[j]! });
        j++;
      }
    }
  }
  return [...head, ...middle, ...tail];
}

/** A unified diff (`--- a`, `+++ b`, `@@` hunks with `context` lines); empty when equal. */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string, context = 3): string {
  if (a === b) return '';
  const split = (t: string): string[] => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  const ops = lineDiff(split(a), split(b));
  const changed = ops.map((o, i) => (o.op !== ' ' ? i : -1)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch into hunks.
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const lo = Math.max(0, i - context);
    const hi = Math.min(ops.length - 1, i + context);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1] + 1) last[1] = hi;
    else hunks.push([lo, hi]);
  }
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  // Line numbers (1-based) in a and b at each op index.
  const posA: number[] = [];
  const posB: number[] = [];
  let la = 1;
  let lb = 1;
  for (const o of ops) {
    posA.push(la);
    posB.push(lb);
    if (o.op !== '+') la++;
    if (o.op !== '-') lb++;
  }
  for (const [lo, hi] of hunks) {
    const slice = ops.slice(lo, hi + 1);
    const countA = slice.filter((o) => o.op !== '+').length;
    const countB = slice.filter((o) => o.op !== '-').length;
    const startA = countA === 0 ? posA[lo]! - 1 : posA[lo]!;
    const startB = countB === 0 ? posB[lo]! - 1 : posB[lo]!;
    out.push(`@@ -${startA},${countA} +${startB},${countB} @@`);
    for (const o of slice) out.push(`${o.op}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}
