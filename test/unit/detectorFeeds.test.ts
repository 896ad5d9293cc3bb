import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseExperiment } from '../../src/core/spec/experiment';
import type { ExperimentRuntime } from '../../src/router/config';
import { DetectorFeeds, type DetectorServer } from '../../src/router/detectors';
import type { DetectorEvent, RequestEvent } from '../../src/shared/events';

/** A V2 server on loopback that answers like MLServer's Alibi Detect runtime, after `delayMs`. */
async function detectorServer(delayMs: number): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { inputs: { shape: number[]; data: number[] }[] };
      bodies.push(body);
      const rows = body.inputs[0]!.shape[0]!;
      const mean = body.inputs[0]!.data.reduce((s, x) => s + x, 0) / (rows * body.inputs[0]!.shape[1]!);
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-seldon-alibi-method', 'ks');
        res.end(
          JSON.stringify({
            outputs: [
              { name: 'is_drift', shape: [], datatype: 'INT64', data: [mean > 100 ? 1 : 0] },
              { name: 'p_val', shape: [2], datatype: 'FP64', data: [0.5, mean > 100 ? 1e-9 : 0.4] },
              { name: 'threshold', shape: [], datatype: 'FP64', data: [0.0005] },
            ],
          }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

function runtime(servers: DetectorServer[]): ExperimentRuntime {
  const experiment = parseExperiment(
    `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: shop }
spec:
  endpoint: shop
  variants: [{ name: v1, model: m1, weight: 50 }, { name: v2, model: m2, weight: 50 }]
  metrics: { primary: { name: conversion, kind: proportion } }
  drift:
    reference: ref.csv
    detectors: [{ name: ks, path: d, features: [age, basket_value], batchSize: 10 }]
`,
    'exp.yaml',
  );
  return { name: 'shop', experiment, detectorServers: servers } as unknown as ExperimentRuntime;
}

let id = 0;
function request(
  variant: string,
  inputs: Record<string, number | string>,
  extra: Partial<RequestEvent> = {},
): RequestEvent {
  return {
    type: 'request',
    id: `r${id++}`,
    ts: 1000 + id,
    experiment: 'shop',
    variant,
    latencyMs: 1,
    status: 200,
    assignment: 'weighted',
    inputs,
    ...extra,
  };
}

async function settle(events: DetectorEvent[], n: number): Promise<void> {
  for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the router feeds bring-your-own detectors batches of recorded features', () => {
  it('sends each variant its own batch of the named features, in order, and records the verdict', async () => {
    const d = await detectorServer(0);
    const events: DetectorEvent[] = [];
    const feeds = new DetectorFeeds((e) => events.push(e));
    feeds.configure([runtime([{ name: 'ks', url: d.url, model: 'shop-detector-ks' }])]);
    try {
      for (let i = 0; i < 10; i++) {
        feeds.observe(request('v1', { basket_value: 50 + i, age: 30, region: 'east' }));
        feeds.observe(request('v2', { basket_value: 500, age: '40' }));
        // Left out: a forced request, a shadow call, a row without a number for a feature.
        feeds.observe(request('v1', { basket_value: 1e6, age: 30 }, { assignment: 'forced' }));
        feeds.observe(request('v1', { basket_value: 1e6, age: 30 }, { shadow: true }));
        feeds.observe(request('v1', { basket_value: 'n/a', age: 30 }));
      }
      await settle(events, 2);
      assert.equal(d.bodies.length, 2);
      const first = d.bodies[0] as {
        inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
      };
      assert.deepEqual(first.inputs[0]!.shape, [10, 2]);
      assert.equal(first.inputs[0]!.datatype, 'FP64');
      assert.deepEqual(first.inputs[0]!.data.slice(0, 4), [30, 50, 30, 51], 'age then basket_value, per row');
      const byVariant = Object.fromEntries(events.map((e) => [e.variant, e]));
      assert.deepEqual(byVariant.v1!.result, {
        method: 'ks',
        isDrift: 0,
        pValues: [0.5, 0.4],
        threshold: 0.0005,
      });
      assert.equal(byVariant.v2!.result!.isDrift, 1);
      assert.deepEqual(
        [byVariant.v1!.rows, byVariant.v1!.experiment, byVariant.v1!.detector],
        [10, 'shop', 'ks'],
      );
    } finally {
      await feeds.close();
      d.server.close();
    }
  });

  it('drops a batch that fills while the previous one is still being judged, and counts it', async () => {
    const d = await detectorServer(300);
    const events: DetectorEvent[] = [];
    const feeds = new DetectorFeeds((e) => events.push(e));
    feeds.configure([runtime([{ name: 'ks', url: d.url, model: 'shop-detector-ks' }])]);
    try {
      for (let i = 0; i < 30; i++) feeds.observe(request('v1', { basket_value: 50, age: 30 }));
      assert.equal(feeds.dropped, 2);
      await settle(events, 1);
      assert.equal(events.length, 1);
      assert.equal(d.bodies.length, 1);
    } finally {
      await feeds.close();
      d.server.close();
    }
  });

  it('starts afresh in a new run: the old run’s verdict still coming is not recorded, the new batch goes out', async () => {
    const d = await detectorServer(200);
    const events: DetectorEvent[] = [];
    const feeds = new DetectorFeeds((e) => events.push(e));
    feeds.configure([runtime([{ name: 'ks', url: d.url, model: 'shop-detector-ks' }])]);
    try {
      for (let i = 0; i < 10; i++) feeds.observe(request('v1', { basket_value: 50, age: 30 }, { run: 'a' }));
      for (let i = 0; i < 10; i++) feeds.observe(request('v1', { basket_value: 50, age: 30 }, { run: 'b' }));
      assert.equal(feeds.dropped, 0);
      await settle(events, 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(d.bodies.length, 2);
      assert.deepEqual(
        events.map((e) => e.run),
        ['b'],
      );
    } finally {
      await feeds.close();
      d.server.close();
    }
  });

  it('records a batch it could not have judged with the reason, without a server or with one down', async () => {
    const events: DetectorEvent[] = [];
    const warnings: string[] = [];
    const feeds = new DetectorFeeds((e) => events.push(e), { warn: (m) => warnings.push(m) });
    feeds.configure([runtime([])]);
    for (const n of [1, 2]) {
      for (let i = 0; i < 10; i++) feeds.observe(request('v1', { basket_value: 50, age: 30 }));
      await settle(events, n);
    }
    assert.equal(events.length, 2);
    assert.match(events[0]!.error!, /no server runs this detector/);
    assert.equal(warnings.length, 1, 'a detector that stays down is one warning');
    feeds.configure([runtime([{ name: 'ks', url: 'http://127.0.0.1:9', model: 'm' }])]);
    for (let i = 0; i < 10; i++) feeds.observe(request('v1', { basket_value: 50, age: 30 }));
    await settle(events, 3);
    assert.match(events[2]!.error!, /cannot reach http:\/\/127\.0\.0\.1:9\/v2\/models\/m\/infer/);
    await feeds.close();
  });
});
