import assert from 'node:assert/strict';
import { PendingQueue, RequestWindows, type WindowCounts } from '../../src/core/analysis/attribution';
import { encodeState, restoreState } from '../../src/core/analysis/stateCodec';
import { seededRandom } from '../../src/core/stats/random';

// RequestWindows keeps matured units in its id map, marked, and drops a generation of them once
// the queue has matured all of it (src/core/analysis/attribution.ts). Against the map with a
// delete per maturation it replaced, written out plainly: seeded streams of requests (reused
// ids, a queue that overflows), feedback within and after windows, out of order, and clocks,
// through checkpoints. Counts, sums and every matured arm must agree.

interface Pending {
  deadline: number;
  id: string;
  arm: number;
  value: number | undefined;
}

class Reference {
  readonly counts: WindowCounts[];
  readonly sums: { count: number; sum: number; sumSq: number; successes: number }[];
  private readonly pending = new Map<string, Pending>();
  private readonly queue: PendingQueue<Pending>;

  constructor(
    arms: number,
    private readonly windowMs: number,
    capacity: number,
  ) {
    this.counts = Array.from({ length: arms }, () => ({ matured: 0, pending: 0, overflow: 0, late: 0 }));
    this.sums = Array.from({ length: arms }, () => ({ count: 0, sum: 0, sumSq: 0, successes: 0 }));
    this.queue = new PendingQueue(capacity);
  }

  request(id: string, arm: number, ts: number): void {
    const unit: Pending = { id, arm, deadline: ts + this.windowMs, value: undefined };
    if (!this.queue.push(unit)) {
      this.counts[arm]!.overflow++;
      return;
    }
    this.pending.set(id, unit);
    this.counts[arm]!.pending++;
  }

  feedback(id: string, ts: number, value: number, arm: number | undefined): void {
    const unit = this.pending.get(id);
    if (unit && ts <= unit.deadline) unit.value = value;
    else if (arm !== undefined) this.counts[unit?.arm ?? arm]!.late++;
  }

  advance(clock: number, matured: (arm: number) => void): void {
    for (let unit = this.queue.next(clock); unit; unit = this.queue.next(clock)) {
      if (this.pending.get(unit.id) === unit) this.pending.delete(unit.id);
      const c = this.counts[unit.arm]!;
      c.pending--;
      c.matured++;
      if (unit.value !== undefined) {
        const m = this.sums[unit.arm]!;
        m.count++;
        m.sum += unit.value;
        m.sumSq += unit.value * unit.value;
        if (unit.value === 1) m.successes++;
      }
      matured(unit.arm);
    }
  }
}

function run(seed: number, steps: number, checkpointEvery = 0): void {
  const random = seededRandom(seed);
  const arms = 2 + Math.floor(random() * 2);
  const windowMs = 1 + Math.floor(random() * (random() < 0.5 ? 20 : 3000));
  const capacity = random() < 0.3 ? 1 + Math.floor(random() * 50) : 100_000;
  const ref = new Reference(arms, windowMs, capacity);
  let windows = new RequestWindows(arms, windowMs, capacity);
  const ids: string[] = [];
  let clock = 0;
  const refMatured: number[] = [];
  const matured: number[] = [];
  for (let i = 0; i < steps; i++) {
    clock += Math.floor(random() * 3);
    const ts = clock - Math.floor(random() * random() * 40); // mostly in order, some late
    ref.advance(ts, (arm) => refMatured.push(arm));
    windows.advance(ts, (arm) => matured.push(arm));
    const r = random();
    if (r < 0.5 || ids.length === 0) {
      const id = ids.length > 0 && random() < 0.05 ? ids[Math.floor(random() * ids.length)]! : `r${i}`;
      ids.push(id);
      const arm = Math.floor(random() * arms);
      ref.request(id, arm, ts);
      windows.request(id, arm, ts);
    } else {
      const back = Math.floor(random() * (random() < 0.8 ? 30 : ids.length));
      const id = ids[Math.max(0, ids.length - 1 - back)]!;
      const value = random() < 0.5 ? 1 : Math.round(random() * 10) / 2;
      const arm = random() < 0.1 ? undefined : Math.floor(random() * arms);
      ref.feedback(id, ts, value, arm);
      windows.feedback(id, ts, value, arm);
    }
    if (checkpointEvery && i % checkpointEvery === checkpointEvery - 1) {
      const fresh = new RequestWindows(arms, windowMs, capacity);
      restoreState(fresh, JSON.parse(JSON.stringify(encodeState(windows))));
      windows = fresh;
    }
  }
  assert.deepEqual(matured, refMatured, `seed ${seed}: matured arms`);
  assert.deepEqual(windows.counts, ref.counts, `seed ${seed}: counts`);
  for (let arm = 0; arm < arms; arm++)
    assert.deepEqual(windows.look(arm).metric, ref.sums[arm], `seed ${seed}: arm ${arm}`);
}

describe('attribution windows of requests (the id map with matured units marked)', () => {
  it('counts as the map with a delete per maturation did (40 seeded streams)', () => {
    for (let seed = 1; seed <= 40; seed++) run(seed, 8_000);
  });

  it('agrees through checkpoints', () => {
    for (let seed = 100; seed < 110; seed++) run(seed, 5_000, 701);
  });
});
