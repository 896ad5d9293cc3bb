import assert from 'node:assert/strict';
import { fastEvent } from '../../src/core/log/fastCheck';
import { scanEvent } from '../../src/core/log/lineScanner';
import { seededRandom } from '../../src/core/stats/random';
import { mixedLog } from '../harness/mixedLog';

/** The old fast path on the same bytes: decoded, JSON.parse, the fast check. */
function oldFastPath(bytes: Buffer): unknown {
  try {
    return fastEvent(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Equal as JSON.parse builds them: same keys in the same order, numbers by Object.is (-0 is not 0). */
function sameValue(a: unknown, b: unknown, at = 'event'): void {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    assert.ok(Object.is(a, b), `${at}: ${String(a)} !== ${String(b)}`);
    return;
  }
  assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b), `${at}: prototype`);
  assert.deepEqual(Object.keys(a), Object.keys(b), `${at}: keys`);
  for (const k of Object.keys(a))
    sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
}

/** Scans `line` placed amid other bytes (the scanner must stop at the bounds it is given). */
function scan(line: string): unknown {
  const bytes = Buffer.from(`{"x":1}\n${line}\n{"type":"request"}`, 'utf8');
  const start = 8;
  return scanEvent(bytes, start, start + Buffer.byteLength(line));
}

/** Asserts the scanner's verdict on one line against the old fast path; returns whether it decoded it. */
function agrees(line: string): boolean {
  const scanned = scan(line);
  if (scanned === undefined) return false;
  const old = oldFastPath(Buffer.from(line, 'utf8'));
  assert.ok(old !== undefined, `the scanner accepted a line the old path refuses: ${line}`);
  sameValue(scanned, old);
  return true;
}

const WRITER_LINES = [
  '{"type":"request","id":"4f60b3a0-a70e-4c63-bef5-000000000010","ts":1764000000020,"experiment":"propensity","variant":"v1","latencyMs":4,"status":200,"assignment":"sticky","user":"000000000000000a","run":"r1","inputs":{"age":30,"tenure_months":10,"sessions_30d":10,"basket_value":0.1,"channel":"email","region":"east"},"outputs":{"predict":0,"proba":0.1}}',
  '{"type":"request","id":"4f60b3a0-a70e-4c63-bef5-000000000010","ts":1764000000020,"experiment":"propensity","variant":"v3","latencyMs":4.0000000000000001,"status":200,"shadow":true,"assignment":"shadow","run":"r1","outputs":{"predict":"yes","proba":1e-7}}',
  '{"type":"feedback","id":"4f60b3a0-a70e-4c63-bef5-000000000010","ts":1764000000021,"experiment":"propensity","metric":"conversion","value":-0,"run":"r1"}',
  '{"type":"label","id":"r-1","ts":-1,"experiment":"e","label":"yes","variant":"v1"}',
  '{"type":"request","id":"g","ts":2,"experiment":"e","variant":"graph","latencyMs":7.5,"status":200,"assignment":"weighted","steps":[{"name":"pre","latencyMs":1.25,"status":200},{"name":"model","latencyMs":6,"status":503,"error":"down"}],"protocol":"grpc"}',
  '{"type":"request","id":"x","ts":0,"experiment":"e","variant":"v","latencyMs":0,"status":0,"error":"upstream timed out","protocol":"grpc","modelInputs":{},"inputs":{"1":2,"a":null}}',
];

describe('the line scanner (events decoded from the log bytes)', () => {
  it("decodes the writer's lines to the objects JSON.parse builds, and only lines the fast check accepts", () => {
    // The last one has a null feature: the fast check refuses it, so must the scanner.
    const decoded = WRITER_LINES.map(agrees);
    assert.deepEqual(decoded, [true, true, true, true, true, false]);
    // Every line of a seeded log of every event type that the old path took fast, the scanner takes too
    // or leaves to it: never a different event.
    const lines = mixedLog(3000, 7).split(/\r\n|\r|\n/);
    let scanned = 0;
    let fast = 0;
    for (const line of lines) {
      if (agrees(line)) scanned++;
      if (oldFastPath(Buffer.from(line, 'utf8')) !== undefined) fast++;
    }
    console.log(`      mixed log: ${scanned} of ${lines.length} lines scanned, ${fast} taken fast before`);
    assert.ok(scanned > 0.8 * fast, `the scanner should decode most of the ${fast} common lines`);
  });

  it('leaves escapes, non-ASCII text, whitespace, line breaks, nested arrays and __proto__ to the old path', () => {
    const base = JSON.parse(WRITER_LINES[0]!) as Record<string, unknown>;
    for (const odd of [
      WRITER_LINES[0]!.replace('"east"', '"e\\u0061st"'),
      WRITER_LINES[0]!.replace('"east"', '"São Paulo"'),
      WRITER_LINES[0]!.replace('"east"', '"ea\\"st"'),
      WRITER_LINES[0]!.replace(',"run"', ', "run"'),
      WRITER_LINES[0]!.replace(',"run"', ',\r"run"'),
      WRITER_LINES[0]! + '\r',
      WRITER_LINES[0]! + ' ',
      JSON.stringify({ ...base, steps: [[{ name: 'a', latencyMs: 1, status: 200 }]] }),
      JSON.stringify({ ...base, inputs: { a: [1] } }),
      WRITER_LINES[0]!.replace('{"type"', '{"__proto__":{"x":1},"type"'),
    ])
      assert.equal(scan(odd), undefined, odd);
  });

  it('values numbers as JSON.parse does (the exact fast path, and Number() beyond it)', () => {
    const random = seededRandom(11);
    const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
    const forms: string[] = ['0', '-0', '-0.0', '0e0', '1E+2', '1e-0', '5e-324', '1.7976931348623157e308'];
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      if (r < 0.3) forms.push(JSON.stringify((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)));
      else {
        const int =
          random() < 0.2 ? '0' : `${1 + Math.floor(random() * 9)}${digits(Math.floor(random() * 20))}`;
        const frac = random() < 0.6 ? `.${digits(1 + Math.floor(random() * 20))}` : '';
        const exp =
          random() < 0.3
            ? `${random() < 0.5 ? 'e' : 'E'}${['', '+', '-'][i % 3]}${Math.floor(random() * 400)}`
            : '';
        forms.push(`${random() < 0.3 ? '-' : ''}${int}${frac}${exp}`);
      }
    }
    for (const n of forms) {
      const line = `{"type":"feedback","id":"r","ts":1,"experiment":"e","metric":"m","value":${n}}`;
      const expected = JSON.parse(line) as { value: number };
      const scanned = scan(line) as { value: number } | undefined;
      if (!Number.isFinite(expected.value)) assert.equal(scanned, undefined, n);
      else
        assert.ok(
          scanned && Object.is(scanned.value, expected.value),
          `${n}: ${scanned?.value} vs ${expected.value}`,
        );
    }
    for (const bad of ['01', '1.', '.5', '-', '--1', '1e', '1e+', '+1', '0x10', 'NaN', '1.5.2', '1e5.5'])
      assert.equal(
        scan(`{"type":"feedback","id":"r","ts":1,"experiment":"e","metric":"m","value":${bad}}`),
        undefined,
        bad,
      );
  });

  it('never decodes a seeded mutation of a line differently from JSON.parse and the fast check', () => {
    const random = seededRandom(5);
    const alphabet = [
      '"',
      '\\',
      ' ',
      '\r',
      '\t',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '-',
      '.',
      'e',
      '0',
      '9',
      'é',
      '\u0000',
      'n',
      't',
    ];
    let decoded = 0;
    let left = 0;
    for (let i = 0; i < 30_000; i++) {
      const chars = [...WRITER_LINES[i % 5]!];
      for (let m = 1 + Math.floor(random() * 2); m > 0; m--) {
        const at = Math.floor(random() * chars.length);
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        const r = random();
        if (r < 0.4) chars[at] = c;
        else if (r < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      if (agrees(chars.join(''))) decoded++;
      else left++;
    }
    console.log(
      `      mutations: ${decoded} decoded (each equal to JSON.parse's), ${left} left to the old path`,
    );
    assert.ok(decoded > 1000 && left > 1000);
  });
});
