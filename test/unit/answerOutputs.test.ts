import assert from 'node:assert/strict';
import { seededRandom } from '../../src/core/stats/random';
import { keptOutputs, outputSpans } from '../../src/router/answerOutputs';

// A sampled answer loses the outputs the router added by cutting their bytes out; what the
// client reads must be the answer with only the kept outputs, whatever the upstream's layout.
describe('router: the added outputs cut out of the upstream answer', () => {
  const random = seededRandom(23);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const space = (): string => pick(['', '', ' ', '\n  ', '\t', ' \r\n ']);

  /** JSON text of `v` with random whitespace wherever JSON allows it. */
  function loose(v: unknown): string {
    if (Array.isArray(v)) return `[${space()}${v.map((x) => loose(x) + space()).join(`,${space()}`)}]`;
    if (v && typeof v === 'object')
      return `{${space()}${Object.entries(v)
        .map(([k, x]) => `${JSON.stringify(k)}${space()}:${space()}${loose(x)}${space()}`)
        .join(`,${space()}`)}}`;
    return JSON.stringify(v);
  }

  const tricky = ['a"b', 'x\\', '}]', '{[', '\\"', 'é✓', ',', ''];
  function answer(): { value: Record<string, unknown>; names: string[] } {
    const names = ['predict', 'predict_proba', 'label', 'embedding'].filter(() => random() < 0.7);
    const outputs = names.map((name) => ({
      name,
      shape: [3],
      datatype: pick(['INT64', 'FP64', 'BYTES']),
      data: Array.from({ length: 3 }, () =>
        pick<unknown>([random(), -1e-7, 3, pick(tricky), [1, [2]], null]),
      ),
      ...(random() < 0.3 ? { parameters: { content_type: pick(tricky), nested: { outputs: [1] } } } : {}),
    }));
    const before: [string, unknown][] = [
      ['model_name', pick(tricky)],
      ['id', 'x'],
      ['parameters', random() < 0.2 ? { outputs: ['not these'] } : { s: pick(tricky) }],
    ].filter(() => random() < 0.7) as [string, unknown][];
    const after: [string, unknown][] = random() < 0.3 ? [['model_version', '1']] : [];
    return { value: Object.fromEntries([...before, ['outputs', outputs], ...after]), names };
  }

  it('gives the answer with only the kept outputs for 2,000 random layouts', () => {
    let spliced = 0;
    for (let n = 0; n < 2_000; n++) {
      const { value, names } = answer();
      const keep = new Set(names.filter(() => random() < 0.5));
      const text = random() < 0.3 ? JSON.stringify(value) : loose(value);
      const body = Buffer.from(text);
      const out = keptOutputs(body, JSON.parse(text), keep);
      const expected = {
        ...value,
        outputs: (value.outputs as { name: string }[]).filter((o) => keep.has(o.name)),
      };
      assert.deepEqual(JSON.parse(out.toString()), expected, text);
      if (text === JSON.stringify(value)) assert.equal(out.toString(), JSON.stringify(expected));
      if (names.every((name) => keep.has(name))) assert.equal(out, body, 'nothing cut: the same buffer');
      else if (outputSpans(body)) spliced++;
    }
    console.log(`      ${spliced} answers cut in place`);
    assert.ok(spliced > 300);
  });

  it('falls back to serialising when the bytes are not as the scan expects', () => {
    const keep = new Set(['predict']);
    const p = '{"name":"predict","data":[1]}';
    const q = '{"name":"predict_proba","data":[0.2,0.8]}';
    for (const text of [
      `{"outputs":[${q}],"outputs":[${p},${q}]}`, // a repeated key: JSON.parse takes the last
      `{"outp\\u0075ts":[${p},${q}]}`, // an escaped key
      `{"outputs":[${p},${q}],"id":"x"}`, // not the last member
      `{"outputs":[${p},${q}],"shape":[1]}`, // nor here, where the text ends as if it were
      `{"parameters":{"outputs":[]},"outputs":[${q},${p}]}`, // the key twice in the text
      `{"id":"\\\\u","outputs" :\n[ ${q} ,\t${p} ]\n}\n`, // an escaped backslash before a u
      `{"outputs":[${q},${p},${q},${p}]}`,
    ]) {
      const out = keptOutputs(Buffer.from(text), JSON.parse(text), keep);
      const predicts = JSON.parse(text).outputs.filter((o: { name: string }) => o.name === 'predict');
      assert.deepEqual(JSON.parse(out.toString()), { ...JSON.parse(text), outputs: predicts }, text);
    }
    const cut = keptOutputs(
      Buffer.from(`{"id":"a","outputs":[${p},${q}]}`),
      { id: 'a', outputs: [{ name: 'predict' }, { name: 'predict_proba' }] },
      keep,
    );
    assert.equal(cut.toString(), `{"id":"a","outputs":[${p}]}`, 'the upstream bytes, one element cut');
    assert.equal(outputSpans(Buffer.from(`{"outputs":[${q}],"outputs":[${p}]}`)), undefined);
    assert.equal(outputSpans(Buffer.from(`{"outp\\u0075ts":[${p},${q}]}`)), undefined);
    assert.equal(outputSpans(Buffer.from('[1]')), undefined);
    const spaced = Buffer.from(' {"outputs" : [ 1 , "]" ] } ');
    assert.deepEqual(outputSpans(spaced), {
      open: 14,
      close: 24,
      elements: [
        [16, 17],
        [20, 23],
      ],
    });
  });

  it("keeps the model's own bytes: an INT64 past 2^53 and its number formatting come back as sent", () => {
    const text =
      '{"model_name":"m","outputs":[{"name":"ids","datatype":"INT64","shape":[2],"data":[9007199254740993,-9223372036854775807]},' +
      '{"name":"score","datatype":"FP64","shape":[1],"data":[1.0e-7]},{"name":"predict_proba","datatype":"FP64","shape":[2],"data":[0.5,0.5]}]}';
    const out = keptOutputs(Buffer.from(text), JSON.parse(text), new Set(['ids', 'score']));
    assert.equal(
      out.toString(),
      '{"model_name":"m","outputs":[{"name":"ids","datatype":"INT64","shape":[2],"data":[9007199254740993,-9223372036854775807]},' +
        '{"name":"score","datatype":"FP64","shape":[1],"data":[1.0e-7]}]}',
    );
    assert.notEqual(
      JSON.stringify(JSON.parse(text)).includes('9007199254740993'),
      true,
      'what re-serialising would lose',
    );
  });
});
