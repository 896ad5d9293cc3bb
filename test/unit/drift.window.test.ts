import assert from 'node:assert/strict';
import { TimeWindow } from '../../src/core/drift/window';
import { seededRandom } from '../../src/core/stats/random';

describe('drift: time windows', () => {
  it('keeps the most recent rows by timestamp even when they arrive out of order', () => {
    const w = new TimeWindow(3, 'latest');
    const held = new Map<number, number>();
    for (const ts of [5, 1, 9, 7, 2, 8]) {
      const slot = w.admit(ts);
      if (slot >= 0) held.set(slot, ts);
    }
    assert.deepEqual(
      [...held.values()].sort((a, b) => a - b),
      [7, 8, 9],
    );
  });

  it('holds exactly what a sorted list would, in order, out of order and after switching', () => {
    const random = seededRandom(7);
    for (const keep of ['latest', 'earliest'] as const)
      for (const disorderFrom of [Infinity, 0, 40, 700])
        for (const capacity of [1, 5, 64]) {
          const w = new TimeWindow(capacity, keep);
          const held: { ts: number; seq: number }[] = new Array(capacity);
          const model: { ts: number; seq: number }[] = [];
          for (let i = 0; i < 1000; i++) {
            // In order (with ties) until `disorderFrom`, then anywhere in a wide range.
            const ts = i < disorderFrom ? Math.floor(i / 3) : Math.floor(random() * 2000);
            const row = { ts, seq: i };
            const evictedBefore = model.length === capacity;
            model.push(row);
            // The model: sort by (ts, arrival), keep the last (latest) or first (earliest) `capacity`.
            model.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
            const dropped =
              model.length > capacity ? (keep === 'latest' ? model.shift() : model.pop()) : undefined;
            const slot = w.admit(ts);
            if (dropped === row) assert.equal(slot, -1, `row ${i} should not be kept`);
            else {
              assert.ok(slot >= 0, `row ${i} should be kept`);
              if (evictedBefore) assert.equal(w.evictedTs, dropped!.ts);
              held[slot] = row;
            }
            const live = held
              .slice(0, w.length)
              .map((r) => r.seq)
              .sort((a, b) => a - b);
            assert.deepEqual(
              live,
              model.map((r) => r.seq).sort((a, b) => a - b),
              `after row ${i}`,
            );
          }
        }
  });

  it('keeps the earliest rows for a prediction reference', () => {
    const w = new TimeWindow(2, 'earliest');
    const held = new Map<number, number>();
    for (const ts of [5, 3, 9, 1]) {
      const slot = w.admit(ts);
      if (slot >= 0) held.set(slot, ts);
    }
    assert.deepEqual(
      [...held.values()].sort((a, b) => a - b),
      [1, 3],
    );
  });
});
