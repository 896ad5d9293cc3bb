/**
 * An answer without the outputs the router added (route.ts asks a sampled request's model for
 * `predict`/`predict_proba` too, for the drift record, and the client must get only what it
 * would have got): the upstream's own bytes with those elements of the top-level `outputs`
 * array cut out. Not the parsed answer serialised again, which would change the model's bytes:
 * an INT64 above 2^53 would come back rounded, and number formatting would change. The scan
 * finds the one top-level `"outputs"` key (nested values are skipped whole) and its elements;
 * where the text is not as expected (the key repeated or spelled with an escape), the parsed
 * answer is serialised instead, so the client always gets the answer JSON.parse read.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const KEY = Buffer.from('"outputs"');

/** `body` (whose parse is `json`) with only the outputs named in `keep`. */
export function keptOutputs(body: Buffer, json: unknown, keep: ReadonlySet<string>): Buffer {
  const outputs = (json as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return body;
  const kept = outputs.map((o) => typeof o?.name === 'string' && keep.has(o.name));
  if (kept.every(Boolean)) return body;
  const spans = outputSpans(body);
  if (!spans || spans.elements.length !== outputs.length)
    return Buffer.from(JSON.stringify({ ...(json as object), outputs: outputs.filter((_, i) => kept[i]) }));
  const { open, close, elements } = spans;
  let length = open + 1 + (body.length - close);
  let n = 0;
  elements.forEach(([start, end], i) => {
    if (kept[i]) length += end - start + (n++ > 0 ? 1 : 0);
  });
  const out = Buffer.allocUnsafe(length);
  let at = body.copy(out, 0, 0, open + 1);
  n = 0;
  elements.forEach(([start, end], i) => {
    if (!kept[i]) return;
    if (n++ > 0) out[at++] = COMMA;
    at += body.copy(out, at, start, end);
  });
  body.copy(out, at, close);
  return out;
}

export interface Spans {
  /** The index of the array's `[` and `]`. */
  open: number;
  close: number;
  /** [start, end) of each element. */
  elements: [number, number][];
}

/**
 * The spans of the top-level `"outputs"` array of valid JSON text, or undefined when the text
 * is not an object with exactly one such key, spelled without escapes, holding an array.
 */
export function outputSpans(body: Buffer): Spans | undefined {
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(body, i + 1);
  let found: Spans | undefined;
  let count = 0;
  while (body[i] === QUOTE) {
    const keyEnd = stringEnd(body, i);
    const isOutputs = keyEnd - i === KEY.length && body.compare(KEY, 0, KEY.length, i, keyEnd) === 0;
    i = skipSpace(body, keyEnd);
    if (body[i] !== COLON) return undefined;
    i = skipSpace(body, i + 1);
    if (isOutputs) {
      count++;
      if (body[i] !== OPEN_BRACKET) return undefined;
      found = { open: i, close: -1, elements: [] };
      i = skipSpace(body, i + 1);
      while (i < body.length && body[i] !== CLOSE_BRACKET) {
        const end = valueEnd(body, i);
        found.elements.push([i, end]);
        i = skipSpace(body, end);
        if (body[i] === COMMA) i = skipSpace(body, i + 1);
      }
      if (body[i] !== CLOSE_BRACKET) return undefined;
      found.close = i++;
    } else {
      i = valueEnd(body, i);
    }
    i = skipSpace(body, i);
    if (body[i] !== COMMA) break;
    i = skipSpace(body, i + 1);
  }
  return body[i] === CLOSE_BRACE && count === 1 ? found : undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/** The index just past the string whose opening quote is at `i` (short: a byte loop beats indexOf's call). */
function stringEnd(b: Buffer, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return i;
}

/** The index just past the value starting at `i`. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i]!;
      if (d === QUOTE) {
        i = stringEnd(b, i);
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return i + 1;
      i++;
    }
    return i;
  }
  while (i < b.length) {
    const d = b[i]!;
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
    i++;
  }
  return i;
}
