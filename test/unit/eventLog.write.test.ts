import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../src/router/eventLog';
import type { ExperimentEvent } from '../../src/shared/events';

const event = (i: number): ExperimentEvent => ({
  type: 'request',
  id: `r${i}`,
  ts: i,
  experiment: 'e',
  variant: 'v1',
  latencyMs: 1,
  status: 200,
});
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('event log: the write path (group commit at the end of a turn)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mc-log-write-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a turn’s lines in one batch, in order, before the turn ends — an fsync under way holds nothing up', async () => {
    const batches: string[][] = [];
    const { log } = EventLog.open(
      dir,
      { segmentBytes: 1 << 20, fsyncIntervalMs: 0, onWritten: (_s, ids) => batches.push([...ids]) },
      () => undefined,
    );
    // A durable append starts an fdatasync at the end of its turn.
    const durable = log.appendDurable([event(0)]);
    await endOfTurn();
    for (let round = 1; round <= 20; round++) {
      let written = false;
      log.append(event(2 * round - 1));
      log.append(event(2 * round));
      void log.written().then(() => (written = true));
      // The write is made at the end of this turn, whatever fdatasync is in flight.
      await endOfTurn();
      assert.ok(written, `round ${round}: written() had not resolved at the end of the turn`);
      const file = readFileSync(join(dir, 'events-00000001.jsonl'), 'utf8');
      assert.equal(file.trimEnd().split('\n').length, 2 * round + 1);
    }
    await durable;
    assert.deepEqual(batches[0], ['r0']);
    assert.deepEqual(batches[3], ['r5', 'r6']);
    assert.equal(batches.length, 21);
    await log.close();
  });

  it('keeps every event exactly once, in order, across rotations under durable and plain appends', async () => {
    const rotated: { closed: number; bytes: number; ids: readonly string[] }[] = [];
    const { log } = EventLog.open(
      dir,
      {
        segmentBytes: 600,
        fsyncIntervalMs: 1,
        onRotated: (closed, pending) => rotated.push({ closed, ...pending }),
      },
      () => undefined,
    );
    const durable: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 7 === 0) durable.push(log.appendDurable([event(i)]));
      else log.append(event(i));
      if (i % 5 === 4) await (i % 20 === 19 ? new Promise((r) => setTimeout(r, 5)) : endOfTurn());
    }
    await Promise.all(durable);
    await log.flush();
    await log.close();
    const seen: number[] = [];
    const reopened = EventLog.open(dir, { segmentBytes: 600, fsyncIntervalMs: 1 }, (e) => seen.push(e.ts));
    await reopened.log.close();
    assert.deepEqual(
      seen,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.ok(rotated.length >= 2, `rotated ${rotated.length} times`);
    // What a rotation says goes first into the next segment is exactly that segment's head.
    for (const r of rotated) {
      const next = readFileSync(join(dir, `events-${String(r.closed + 1).padStart(8, '0')}.jsonl`));
      const head = next.subarray(0, r.bytes).toString();
      assert.deepEqual(
        head
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { id: string }).id),
        r.ids,
      );
    }
  });
});
