/**
 * Runs test/harness/v2_clients.py (NVIDIA's tritonclient, gRPC and HTTP) in the environment
 * tools/install-tritonclient.sh provisions: a list of V2 calls in, a result per call out.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { FEATURES, type TrafficRow } from './routerClient';
import { REPO_ROOT, tritonclientPython } from './tools';

export interface TritonInput {
  name: string;
  datatype: 'INT64' | 'FP64' | 'BYTES';
  data: (number | string)[];
}

export interface TritonCall {
  protocol: 'grpc' | 'http';
  /** host:port */
  url: string;
  model: string;
  inputs: TritonInput[];
  headers?: Record<string, string>;
  parameters?: Record<string, string>;
  /** gRPC only: the client's deadline, seconds. */
  timeout?: number;
  /** HTTP only: binary tensors (tritonclient's default) or JSON. */
  binary?: boolean;
  outputs?: string[];
}

export type TritonResult =
  | {
      ok: true;
      ms: number;
      outputs: Record<string, { datatype: string; shape: number[]; data: (number | string)[] }>;
    }
  | { ok: false; ms: number; status: string; message: string };

/** Rows as MLServer's pandas codec wants them from tritonclient: one input per column, shape [rows]. */
export function rowInputs(rows: readonly TrafficRow[]): TritonInput[] {
  return FEATURES.map((name) => {
    const values = rows.map((r) => r.features[name]!);
    const datatype =
      typeof values[0] === 'string' ? 'BYTES' : values.every(Number.isInteger) ? 'INT64' : 'FP64';
    return { name, datatype, data: values };
  });
}

/** Sends the calls in order from one Python process; resolves with one result per call. */
export function tritonCalls(calls: readonly TritonCall[]): Promise<TritonResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      tritonclientPython(),
      [join(REPO_ROOT, 'test/harness/v2_clients.py')],
      { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`v2_clients.py failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout) as TritonResult[]);
      },
    );
    child.stdin!.end(JSON.stringify(calls));
  });
}
