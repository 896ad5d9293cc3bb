import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../src/router/eventLog';
import { CursorBeyondLog, LOG_START, parseCursor, readAfter } from '../../src/router/replicas/logReader';
import { releaseInOrder, type StreamState } from '../../src/router/replicas/merge';
import { parsePeers, PeersError } from '../../src/router/replicas/peers';
import { replicaOfId } from '../../src/router/replicas';
import type { ExperimentEvent } from '../../src/shared/events';

const line = (i: number): string =>
  JSON.stringify({
    type: 'request',
    id: `x${i}`,
    ts: i,
    experiment: 'e',
    variant: 'v1',
    latencyMs: 1,
    status: 200,
  }) + '\n';

describe('replicas: reading a log after a cursor', () => {
  let dir: string;
  const segments = () => ({
    segmentFiles: () =>
      ['events-00000001.jsonl', 'events-00000002.jsonl']
        .map((f, i) => ({ segment: i + 1, file: join(dir, f) }))
        .filter((s) => existsSync(s.file)),
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mc-cursor-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out whole lines in order, page by page, across segments, and waits at a line being written', () => {
    writeFileSync(join(dir, 'events-00000001.jsonl'), [0, 1, 2, 3, 4].map(line).join(''));
    writeFileSync(join(dir, 'events-00000002.jsonl'), [5, 6].map(line).join('') + line(7).slice(0, 20));
    const seen: number[] = [];
    let cursor = LOG_START;
    let pages = 0;
    for (;;) {
      const page = readAfter(segments(), cursor, 2, 1 << 20);
      pages++;
      for (const l of page.lines.toString().split('\n').filter(Boolean))
        seen.push((JSON.parse(l) as { ts: number }).ts);
      cursor = page.next;
      if (!page.more) break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(pages >= 4);
    assert.deepEqual(parseCursor(`${cursor.segment}:${cursor.offset}`), cursor);
    // The torn line is completed: the next read hands it out, once.
    appendFileSync(join(dir, 'events-00000002.jsonl'), line(7).slice(20));
    const next = readAfter(segments(), cursor, 100, 1 << 20);
    assert.equal(next.count, 1);
    assert.equal(JSON.parse(next.lines.toString()).ts, 7);
    assert.equal(readAfter(segments(), next.next, 100, 1 << 20).count, 0);
  });

  it("reads the router's own log as written by EventLog, and refuses a cursor past its end", async () => {
    const { log } = EventLog.open(dir, { segmentBytes: 400, fsyncIntervalMs: 10 }, () => undefined);
    const events: ExperimentEvent[] = [0, 1, 2, 3, 4, 5].map((i) => JSON.parse(line(i)) as ExperimentEvent);
    await log.appendDurable(events);
    await log.appendDurable([JSON.parse(line(6)) as ExperimentEvent]);
    assert.ok(log.segmentFiles().length >= 2, 'rotated');
    const page = readAfter(log, LOG_START, 1000, 1 << 20);
    assert.equal(page.count, 7);
    assert.throws(
      () => readAfter(log, { segment: page.next.segment, offset: page.next.offset + 5 }, 10, 1 << 20),
      CursorBeyondLog,
    );
    assert.throws(
      () => readAfter(log, { segment: page.next.segment + 3, offset: 0 }, 10, 1 << 20),
      CursorBeyondLog,
    );
    await log.close();
  });
});

describe('replicas: the merge in time order', () => {
  const ev = (ts: number): ExperimentEvent => ({
    type: 'request',
    id: `i${ts}`,
    ts,
    experiment: 'e',
    variant: 'v1',
    latencyMs: 1,
    status: 200,
  });
  const stream = (name: string, ts: number[], watermark: number, reachable = true): StreamState => ({
    name,
    buffer: ts.map(ev),
    head: 0,
    watermark,
    reachable,
  });

  it("interleaves replicas by timestamp, keeping each replica's own order", () => {
    const a = stream('a', [1, 4, 6], 100);
    const b = stream('b', [2, 3, 9], 100);
    const out: number[] = [];
    releaseInOrder([a, b], (e) => out.push(e.ts));
    assert.deepEqual(out, [1, 2, 3, 4, 6, 9]);
  });

  it('waits for a caught-up replica whose clock has not passed an event, but not for one that is down', () => {
    const a = stream('a', [10, 20, 30], 0);
    const quiet = stream('quiet', [], 15);
    const out: number[] = [];
    releaseInOrder([a, quiet], (e) => out.push(e.ts));
    assert.deepEqual(out, [10], 'the quiet replica vouches only up to its watermark');
    quiet.watermark = 25;
    releaseInOrder([a, quiet], (e) => out.push(e.ts));
    assert.deepEqual(out, [10, 20]);
    quiet.reachable = false;
    releaseInOrder([a, quiet], (e) => out.push(e.ts));
    assert.deepEqual(out, [10, 20, 30], 'an unreachable replica holds nobody up');
  });
});

describe('replicas: peers and ids', () => {
  it('parses --peers and says how to write it when it is wrong', () => {
    assert.deepEqual(parsePeers('r1=http://127.0.0.1:9/,r0=http://10.0.0.1:8090'), [
      { name: 'r0', url: 'http://10.0.0.1:8090' },
      { name: 'r1', url: 'http://127.0.0.1:9' },
    ]);
    assert.throws(
      () => parsePeers('r0'),
      (e: Error) => e instanceof PeersError && /<name>=http/.test(e.message),
    );
    assert.throws(() => parsePeers('r0=http://a:1,r0=http://b:1'), /twice/);
  });

  it('reads the replica a generated request id names', () => {
    assert.equal(replicaOfId('router-2~0b6c3c8e-1c55-4c8f-9a55-2f0c0f1e9a11'), 'router-2');
    assert.equal(replicaOfId('0b6c3c8e-1c55-4c8f-9a55-2f0c0f1e9a11'), undefined);
    assert.equal(replicaOfId('~x'), undefined);
  });
});
