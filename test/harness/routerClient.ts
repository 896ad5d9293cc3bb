/**
 * Client side of the router tests: V2 requests built from the sample workspace's traffic rows,
 * a pooled HTTP client, and reading the event log back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { ExperimentEvent } from '../../src/shared/events';
import { SAMPLE_MODELS } from './tools';

export const FEATURES = [
  'age',
  'tenure_months',
  'sessions_30d',
  'basket_value',
  'channel',
  'region',
] as const;
const CATEGORICAL = new Set(['channel', 'region']);

export interface TrafficRow {
  user_id: string;
  converted: number;
  features: Record<string, number | string>;
}

/** The rows of sample-models/data/traffic.csv (a plain CSV without quoted fields). */
export function trafficRows(): TrafficRow[] {
  const [header, ...lines] = readFileSync(join(SAMPLE_MODELS, 'data/traffic.csv'), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const get = (name: string): string => cells[cols.indexOf(name)] ?? '';
    const features: Record<string, number | string> = {};
    for (const f of FEATURES) features[f] = CATEGORICAL.has(f) ? get(f) : Number(get(f));
    return { user_id: get('user_id'), converted: Number(get('converted')), features };
  });
}

/** One row as MLServer's pandas codec wants it: one V2 input per column. */
export function namedInputsRequest(features: Record<string, number | string>): object {
  return {
    parameters: { content_type: 'pd' },
    inputs: FEATURES.map((name) => {
      const v = features[name]!;
      return typeof v === 'string'
        ? { name, shape: [1], datatype: 'BYTES', data: [v] }
        : { name, shape: [1], datatype: Number.isInteger(v) ? 'INT64' : 'FP64', data: [v] };
    }),
  };
}

/** A small request the fake upstream answers (class 1 when `age` > 40). */
export function simpleRequest(age = 41): object {
  return {
    inputs: [
      { name: 'age', shape: [1], datatype: 'INT64', data: [age] },
      { name: 'channel', shape: [1], datatype: 'BYTES', data: ['web'] },
    ],
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

/** A keep-alive client for one router. */
export class Client {
  readonly pool: Pool;

  constructor(
    readonly url: string,
    connections = 32,
  ) {
    this.pool = new Pool(url, { connections, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  async send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.pool.request({
      method,
      path,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: payload,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
  }

  infer(endpoint: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('POST', `/v2/models/${endpoint}/infer`, body, headers);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once. */
export async function inParallel<T>(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Every event in the data directory's segments, in order (a torn last line is skipped). */
export function readEvents(dataDir: string): ExperimentEvent[] {
  const files = readdirSync(dataDir)
    .filter((f) => /^events-\d+\.jsonl$/.test(f))
    .sort();
  const events: ExperimentEvent[] = [];
  for (const f of files) {
    for (const line of readFileSync(join(dataDir, f), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as ExperimentEvent);
      } catch {
        // a torn line
      }
    }
  }
  return events;
}

/** p-value-free SRM check: chi-square of observed counts against expected shares, and its critical value at p = 0.001. */
export function chiSquare(observed: number[], shares: number[]): { chi2: number; critical: number } {
  const total = observed.reduce((a, b) => a + b, 0);
  const sum = shares.reduce((a, b) => a + b, 0);
  const chi2 = observed.reduce((acc, o, i) => {
    const e = (total * shares[i]!) / sum;
    return acc + (o - e) ** 2 / e;
  }, 0);
  // Upper 0.1% points of the chi-square distribution for 1–4 degrees of freedom.
  const critical = [10.828, 13.816, 16.266, 18.467][observed.length - 2] ?? Infinity;
  return { chi2, critical };
}
