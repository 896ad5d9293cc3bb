import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINT_VERSION,
  CheckpointCodecError,
  checkpointBuilder,
  restoreBuilder,
} from '../../src/core/analysis/checkpoint';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { cases } from '../fixtures/id-memory/cases';

// The report builder's id memories forget exactly as they did before the compact id table: the
// reports in test/fixtures/id-memory were written by the per-purpose GenerationalMaps (make.ts,
// at commit 20ec2e4) on streams whose ids outlive every memory many times over.

/** The fixture as compact JSON (the file is pretty-printed; numbers and key order survive the round trip). */
const fixture = (name: string): string =>
  JSON.stringify(
    JSON.parse(readFileSync(join(import.meta.dirname, `../fixtures/id-memory/${name}.report.json`), 'utf8')),
  );

describe('id memories: the same report as the per-purpose maps gave, byte for byte', () => {
  for (const c of cases()) {
    it(`${c.name}: a full pass`, () => {
      const builder = new ReportBuilder(c.experiment, c.options);
      for (const e of c.events) builder.ingest(e);
      assert.equal(JSON.stringify(builder.report(c.now)), fixture(c.name));
    });

    it(`${c.name}: restored from checkpoints (through JSON) at three points`, () => {
      let builder = new ReportBuilder(c.experiment, c.options);
      const splits = new Set([1777, 6001, 11_503].map((k) => Math.min(k, c.events.length - 1)));
      c.events.forEach((e, k) => {
        if (splits.has(k)) {
          const text = JSON.stringify(checkpointBuilder(builder, c.options));
          builder = restoreBuilder(c.experiment, c.options, JSON.parse(text));
        }
        builder.ingest(e);
      });
      assert.equal(JSON.stringify(builder.report(c.now)), fixture(c.name));
    });
  }

  it('a checkpoint of the per-purpose maps (version 1) is refused, and so is an old state under a new version', () => {
    const c = cases()[0]!;
    const builder = new ReportBuilder(c.experiment, c.options);
    for (const e of c.events.slice(0, 2000)) builder.ingest(e);
    const text = JSON.stringify(checkpointBuilder(builder, c.options));
    assert.equal(CHECKPOINT_VERSION, 2);
    const old = { ...JSON.parse(text), version: 1 };
    assert.throws(
      () => restoreBuilder(c.experiment, c.options, old),
      (e: unknown) => e instanceof CheckpointCodecError && /version 1, expected 2/.test(e.message),
    );
    // Version 1 wrote a GenerationalMap where the builder now has an id memory: the codec knows no such class.
    const foreign = JSON.parse(text.replace(/"IdScalars#[0-9a-f]{12}"/g, '"GenerationalMap#0123456789ab"'));
    assert.throws(
      () => restoreBuilder(c.experiment, c.options, foreign),
      (e: unknown) => e instanceof CheckpointCodecError && /unknown class GenerationalMap/.test(e.message),
    );
  });
});
