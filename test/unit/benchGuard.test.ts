import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Figure } from '../../bench/lib/figures';
import { guard, limitOf, type Bounds } from '../../bench/lib/guard';
import { BEGIN, END, performanceTable, replaceBetweenMarkers } from '../../bench/lib/table';

const fig = (id: string, value: number, better: Figure['better']): Figure => ({
  id,
  label: id,
  value,
  unit: '×',
  better,
  ratio: true,
});
const bounds: Bounds = {
  about: '',
  ratios: {
    a: { bound: 1, noise: 0.2, why: '' },
    b: { bound: 10, noise: 0.1, why: '' },
  },
};

describe('bench guard (bench/lib/guard.ts)', () => {
  it('fails a ratio only past its bound widened by its noise, in the direction that is worse', () => {
    assert.equal(limitOf('lower', 1, 0.2), 1.2);
    assert.equal(limitOf('higher', 10, 0.1), 9);
    assert.equal(guard([fig('a', 1.19, 'lower'), fig('b', 9.1, 'higher')], bounds).ok, true);
    const lowerWorse = guard([fig('a', 1.21, 'lower'), fig('b', 20, 'higher')], bounds);
    assert.equal(lowerWorse.ok, false);
    assert.match(lowerWorse.lines[0]!, /^✗ a: 1\.210× .*fails past 1\.200×/);
    assert.equal(guard([fig('a', 0.1, 'lower'), fig('b', 8.9, 'higher')], bounds).ok, false);
  });

  it('fails when a guarded ratio was not measured, naming it', () => {
    const v = guard([fig('a', 1, 'lower')], bounds);
    assert.equal(v.ok, false);
    assert.match(v.lines.join('\n'), /✗ b: not measured/);
  });

  it('every bound in bench/bounds.json says why, and has a positive bound and noise under 100%', () => {
    const file = JSON.parse(readFileSync('bench/bounds.json', 'utf8')) as Bounds;
    assert.ok(Object.keys(file.ratios).length > 0);
    for (const [id, b] of Object.entries(file.ratios)) {
      assert.ok(b.bound > 0 && b.noise >= 0 && b.noise < 1, id);
      assert.ok(b.why.length > 20, `${id} says why`);
    }
  });

  it('regenerates only what lies between the README markers', () => {
    const out = {
      date: '2026-12-06T00:00:00Z',
      machine: { cpus: 2, model: 'cpu', node: 'v20' },
      figures: [
        fig('a', 0.5, 'lower'),
        { ...fig('c', 12.3456, 'lower'), ratio: false, unit: 'ms', target: 50 },
      ],
    };
    const table = performanceTable(out, bounds);
    assert.match(table, /\| a \| 0\.50× \| {2}\| ≤ 1\.00× ±20% \|/);
    assert.match(table, /\| c \| 12\.3 ms \| ≤ 50\.0 ms \| {2}\|/);
    const readme = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
    const next = replaceBetweenMarkers(readme, table);
    assert.ok(next.startsWith('intro\n') && next.endsWith('\noutro\n') && !next.includes('old'));
    assert.throws(() => replaceBetweenMarkers('no markers', table), /no performance table markers/);
  });
});
