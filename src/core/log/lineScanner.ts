/**
 * Decodes an event line straight from the log's bytes, without decoding the chunk as UTF-8,
 * slicing the line out as a string or running JSON.parse over it, for replay and `analyze` at
 * disk speed. Hand-written because what pays here is what no JSON library does: refusing
 * everything outside the writer's own shape instead of parsing it, and expecting each line's
 * keys (and short values) to be those of the line before at the same place, so that most
 * bytes are compared once against a string already made.
 *
 * It reads a strict subset of JSON: `JSON.stringify` output of an object whose values are
 * strings, numbers, booleans, null, flat objects of those or arrays of those and of flat objects
 * (a graph's steps), without whitespace; strings of printable ASCII without escapes, numbers of
 * JSON's grammar. On anything else (an escape, a non-ASCII byte, whitespace, a `\r`, deeper
 * nesting, a key `__proto__`, a syntax error) it returns undefined and the caller takes the line
 * the old way: decoded, JSON.parse, the fast check and zod, with their messages. What it accepts it builds as
 * JSON.parse would (the same keys in the same order, the same values: numbers by an exact fast
 * path or `Number()` of the digits, both correctly rounded), then hands to the same fast check
 * (./fastCheck.ts), so it decodes exactly the lines the old path accepted fast.
 */
import type { ExperimentEvent } from '../../shared/events';
import { fastEvent } from './fastCheck';

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN = 123;
const CLOSE = 125;
const OPEN_LIST = 91;
const CLOSE_LIST = 93;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const BACKSLASH = 92;
/** Short strings are expected to repeat at their place (names, categories); longer ones (ids) are sliced. */
const EXPECT_MAX = 16;
/** Places remembered per object (keys of an event, of its inputs). */
const PLACES = 32;
/** Powers of ten a double holds exactly (10^0 … 10^22): the exact fast path of number parsing. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The event fields the scanner stores by name (a monomorphic store each); others by key. */
const FIELDS = [
  'type',
  'id',
  'ts',
  'experiment',
  'variant',
  'latencyMs',
  'status',
  'shadow',
  'assignment',
  'user',
  'debugHeader',
  'run',
  'inputs',
  'outputs',
  'modelInputs',
  'error',
  'protocol',
  'metric',
  'value',
  'label',
] as const;
const CODE = new Map<string, number>(FIELDS.map((f, i) => [f, i]));

/** Node's own Latin-1 decoder (here: ASCII), without `toString`'s argument checks. */
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };

/** A property key as V8 keeps keys (internalized), made once per new key. */
const asKey = (s: string): string => Object.keys({ [s]: 0 })[0]!;

/** Candidates remembered per place: a request and a mirrored one differ in a few keys, a variant has a few values. */
const WAYS = 4;

/**
 * Plain objects (prototype Object.prototype, as JSON.parse makes them) that V8 sizes for the
 * properties their constructor's objects get (slack tracking): `{}` holds four in the object and
 * moves the rest to a store that is reallocated as it grows.
 */
const Plain = function (this: object) {} as unknown as new () => object;
Plain.prototype = Object.prototype;
const PlainFlat = function (this: object) {} as unknown as new () => object;
PlainFlat.prototype = Object.prototype;

/** What each object place (the n-th member of an object) held on recent lines: up to `WAYS` keys and short values. */
class Places {
  readonly keys: (string | undefined)[] = new Array<string | undefined>(PLACES * WAYS).fill(undefined);
  readonly codes = new Int32Array(PLACES * WAYS).fill(-1);
  readonly values: (string | undefined)[] = new Array<string | undefined>(PLACES * WAYS).fill(undefined);
  /** Where the next new key or value of a place goes (round robin). */
  readonly nextKey = new Uint8Array(PLACES);
  readonly nextValue = new Uint8Array(PLACES);
}

/** Places of the event object per event type (what follows `"type":…` differs by type). */
const byType = new Map<string, Places>();
const MAX_TYPES = 16;
const untyped = new Places();
/** Nested objects' places, by the parent's field (inputs, outputs, modelInputs, others). */
const nested = Array.from({ length: FIELDS.length + 1 }, () => new Places());
/** The code of the key `keyAt` found last. */
let keyCode = -1;

let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
let failed = false;

/** The string whose bytes start at `pos` (after the opening quote), when they are `s` followed by a quote. */
function same(s: string | undefined): boolean {
  if (s === undefined) return false;
  const n = s.length;
  const b = buf;
  const at = pos;
  if (at + n >= end || b[at + n] !== QUOTE) return false;
  // The last character first: values that differ (counters, hashes) mostly differ there.
  if (n > 0 && s.charCodeAt(n - 1) !== b[at + n - 1]) return false;
  for (let i = 0; i < n - 1; i++) if (s.charCodeAt(i) !== b[at + i]) return false;
  return true;
}

/** The bytes from `pos` to the closing quote as a string; undefined (and failed) outside the subset. */
function freshString(): string | undefined {
  const bytes = buf;
  const stop = end;
  for (let i = pos; i < stop; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) {
      const s = (bytes as Latin1).latin1Slice(pos, i);
      pos = i + 1;
      return s;
    }
    // Control characters, escapes and non-ASCII bytes go the old way.
    if (b < 0x20 || b > 0x7e || b === BACKSLASH) break;
  }
  failed = true;
  return undefined;
}

/** A string value (the cursor after its opening quote), reusing one seen at its place on recent lines. */
function stringAt(places: Places, place: number): string | undefined {
  const values = places.values;
  const first = place * WAYS;
  for (let w = first; w < first + WAYS; w++) {
    const before = values[w];
    if (same(before)) {
      pos += before!.length + 1;
      return before;
    }
  }
  const s = freshString();
  if (s !== undefined && s.length <= EXPECT_MAX) {
    const w = places.nextValue[place]!;
    values[first + w] = s;
    places.nextValue[place] = (w + 1) % WAYS;
  }
  return s;
}

/** A key (the cursor after its opening quote), reusing one seen at its place on recent lines; sets `keyCode`. */
function keyAt(places: Places, place: number): string | undefined {
  const keys = places.keys;
  const first = place * WAYS;
  for (let w = first; w < first + WAYS; w++) {
    const before = keys[w];
    if (same(before)) {
      pos += before!.length + 1;
      keyCode = places.codes[w]!;
      return before;
    }
  }
  const fresh = freshString();
  if (fresh === undefined || fresh === '__proto__') return undefined; // it would set the prototype
  const key = asKey(fresh);
  const w = first + places.nextKey[place]!;
  places.nextKey[place] = (places.nextKey[place]! + 1) % WAYS;
  keys[w] = key;
  keyCode = places.codes[w] = CODE.get(key) ?? -1;
  return key;
}

/** A number of JSON's grammar at the cursor, valued as JSON.parse values it. */
function number(): number {
  const bytes = buf;
  const stop = end;
  const start = pos;
  let i = start;
  const negative = bytes[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  const intStart = i;
  let b = bytes[i]!;
  while (i < stop && b >= ZERO && b <= NINE) {
    mantissa = mantissa * 10 + (b - ZERO);
    b = bytes[++i]!;
  }
  let digits = i - intStart;
  // JSON: at least one digit, and no leading zero before another digit.
  if (digits === 0 || (digits > 1 && bytes[intStart] === ZERO)) return fail();
  let scale = 0;
  if (i < stop && b === DOT) {
    const fracStart = ++i;
    b = bytes[i]!;
    while (i < stop && b >= ZERO && b <= NINE) {
      mantissa = mantissa * 10 + (b - ZERO);
      b = bytes[++i]!;
    }
    if (i === fracStart) return fail();
    scale = i - fracStart;
    digits += scale;
  }
  let exact = digits <= 15;
  if (i < stop && (b === 101 /* e */ || b === 69) /* E */) {
    b = bytes[++i]!;
    let expNegative = false;
    if (i < stop && (b === 43 /* + */ || b === MINUS)) {
      expNegative = b === MINUS;
      b = bytes[++i]!;
    }
    const expStart = i;
    let exp = 0;
    while (i < stop && b >= ZERO && b <= NINE) {
      exp = exp * 10 + (b - ZERO);
      b = bytes[++i]!;
    }
    if (i === expStart) return fail();
    scale += expNegative ? exp : -exp;
    exact = exact && i - expStart <= 3;
  }
  pos = i;
  if (exact && scale <= 22 && scale >= -22) {
    // Clinger's fast path: both operands exact, one correctly rounded operation.
    const value = scale >= 0 ? mantissa / POW10[scale]! : mantissa * POW10[-scale]!;
    return negative ? -value : value;
  }
  return Number((bytes as Latin1).latin1Slice(start, i));
}

function fail(): number {
  failed = true;
  return 0;
}

/** `true`, `false` or `null` at the cursor (`value`); fails on anything else. */
function word(w: string, value: boolean | null): boolean | null {
  let ok = pos + w.length <= end;
  for (let i = 0; ok && i < w.length; i++) ok = buf[pos + i] === w.charCodeAt(i);
  if (!ok) fail();
  else pos += w.length;
  return value;
}

/** A string, number, boolean or null at the cursor. */
function primitive(places: Places, place: number): unknown {
  const b = buf[pos];
  if (b === QUOTE) {
    pos++;
    return stringAt(places, place);
  }
  if (b === MINUS || (b !== undefined && b >= ZERO && b <= NINE)) return number();
  if (b === 116 /* t */) return word('true', true);
  if (b === 102 /* f */) return word('false', false);
  if (b === 110 /* n */) return word('null', null);
  return fail();
}

/** A flat object at the cursor (on its `{`): primitives only. */
function flatObject(places: Places): Record<string, unknown> | undefined {
  const out = new PlainFlat() as Record<string, unknown>;
  if (buf[++pos] === CLOSE) {
    pos++;
    return out;
  }
  for (let place = 0; ; place++) {
    if (buf[pos] !== QUOTE || place >= PLACES) break;
    pos++;
    const key = keyAt(places, place);
    if (key === undefined || buf[pos] !== COLON) break;
    pos++;
    const value = primitive(places, place);
    if (failed) return undefined;
    out[key] = value;
    const next = buf[pos++];
    if (next === CLOSE) return out;
    if (next !== COMMA) break;
  }
  failed = true;
  return undefined;
}

/** An array at the cursor (on its `[`): primitives and flat objects (a graph's steps). */
function list(places: Places): unknown[] | undefined {
  const out: unknown[] = [];
  if (buf[++pos] === CLOSE_LIST) {
    pos++;
    return out;
  }
  for (;;) {
    const value = buf[pos] === OPEN ? flatObject(places) : primitive(places, 0);
    if (failed) return undefined;
    out.push(value);
    const next = buf[pos++];
    if (next === CLOSE_LIST) return out;
    if (next !== COMMA) break;
  }
  failed = true;
  return undefined;
}

/** The places of events of this type (the writer puts `type` first). */
function placesOf(type: string): Places {
  let p = byType.get(type);
  if (p === undefined && byType.size < MAX_TYPES) byType.set(type, (p = new Places()));
  return p ?? untyped;
}

/** The event object at the cursor (on its `{`), built with the keys in the line's order. */
function eventObject(): Record<string, unknown> | undefined {
  const e = new Plain() as Record<string, unknown>;
  pos++;
  if (buf[pos] === CLOSE) {
    pos++;
    return e;
  }
  let places = untyped;
  for (let place = 0; ; place++) {
    if (buf[pos] !== QUOTE || place >= PLACES) break;
    pos++;
    const key = keyAt(places, place);
    if (key === undefined || buf[pos] !== COLON) break;
    pos++;
    const code = keyCode;
    const first = buf[pos];
    const v =
      first === OPEN
        ? flatObject(nested[code + 1]!)
        : first === OPEN_LIST
          ? list(nested[code + 1]!)
          : primitive(places, place);
    if (failed) return undefined;
    if (place === 0 && code === 0 && typeof v === 'string') places = placesOf(v);
    // A store by name per field: the same few shapes every line, as JSON.parse makes them.
    switch (code) {
      case 0: e.type = v; break; // prettier-ignore
      case 1: e.id = v; break; // prettier-ignore
      case 2: e.ts = v; break; // prettier-ignore
      case 3: e.experiment = v; break; // prettier-ignore
      case 4: e.variant = v; break; // prettier-ignore
      case 5: e.latencyMs = v; break; // prettier-ignore
      case 6: e.status = v; break; // prettier-ignore
      case 7: e.shadow = v; break; // prettier-ignore
      case 8: e.assignment = v; break; // prettier-ignore
      case 9: e.user = v; break; // prettier-ignore
      case 10: e.debugHeader = v; break; // prettier-ignore
      case 11: e.run = v; break; // prettier-ignore
      case 12: e.inputs = v; break; // prettier-ignore
      case 13: e.outputs = v; break; // prettier-ignore
      case 14: e.modelInputs = v; break; // prettier-ignore
      case 15: e.error = v; break; // prettier-ignore
      case 16: e.protocol = v; break; // prettier-ignore
      case 17: e.metric = v; break; // prettier-ignore
      case 18: e.value = v; break; // prettier-ignore
      case 19: e.label = v; break; // prettier-ignore
      default: e[key] = v; // prettier-ignore
    }
    const next = buf[pos++];
    if (next === CLOSE) return e;
    if (next !== COMMA) break;
  }
  failed = true;
  return undefined;
}

/**
 * The event on bytes [start, stop) of `bytes` (a line without its line break), when the line is
 * in the writer's own shape and passes the fast check; undefined when the line must go the old
 * way (decoded, parsed and checked as before).
 */
export function scanEvent(bytes: Buffer, start: number, stop: number): ExperimentEvent | undefined {
  if (stop - start < 2 || bytes[start] !== OPEN) return undefined;
  buf = bytes;
  pos = start;
  end = stop;
  failed = false;
  const value = eventObject();
  const event = failed || pos !== stop ? undefined : fastEvent(value);
  buf = EMPTY; // no reference to the caller's chunk outlives the call
  return event;
}

const EMPTY = Buffer.alloc(0);
