import assert from 'node:assert/strict';
import { jsonChunks } from '../../src/router/jsonChunks';
import { seededRandom } from '../../src/core/stats/random';

// The checkpoint writer's JSON in pieces must be the text JSON.stringify gives.
describe('checkpoints: JSON written in pieces', () => {
  it('equals JSON.stringify over random values, long arrays included', () => {
    const random = seededRandom(7);
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return [1.5, 'x"\n', true, null, -0, 1e21][Math.floor(random() * 6)];
      if (r < 0.45) return Array.from({ length: 20_000 }, () => value(9)); // a long array of leaves
      if (r < 0.6) return Array.from({ length: 5 }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: 4 }, (_, i) => [`k${i}"`, random() < 0.1 ? undefined : value(depth + 1)]),
      );
    };
    for (let n = 0; n < 50; n++) {
      const v = value(0);
      assert.equal([...jsonChunks(v)].join(''), JSON.stringify(v));
    }
  });
});
