/**
 * ghz (github.com/bojand/ghz, built by tools/install-ghz.sh), a gRPC load generator we did not
 * write: ModelInfer of a one-row request at a constant schedule (`--rps`, 50 workers so a slow
 * answer does not hold the schedule back), its latency percentiles in ms. At the end of the
 * duration ghz waits for the calls in flight (`--duration-stop wait`): its default closes the
 * connection under them and counts each as failed (UNAVAILABLE "use of closed network
 * connection"), which read as the router failing a call now and then.
 *
 * ghz runs with Go's garbage collector off (`GOGC=off` unless `gogc` says otherwise;
 * `GOMEMLIMIT` as a backstop: it collects only near 4 GiB, and a 10 s run at 1,000 calls a
 * second stays far below). Its collections were
 * the measuring instrument's own tail: straight to the stub, pinned, 4 rounds of 8 s at 1,000
 * calls a second (bench/ghzNoise.ts), p99 5.4–7.2 ms and p99.9 15–23 ms with them, 1.05–2.7 ms
 * and 3–7 ms without, p50 the same (docs/performance.md).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROTO_FILE } from '../../test/harness/grpcClient';
import { REPO_ROOT } from '../../test/harness/tools';

export interface GhzFigures {
  p50: number;
  p90: number;
  p99: number;
  rps: number;
  total: number;
  failed: number;
  /** ghz's error messages of the failed calls, with their counts. */
  errors: Record<string, number>;
  /** With `details`: every call's end (ms since the epoch) and latency (ms), in ghz's order. */
  calls?: GhzCall[];
}

export interface GhzCall {
  end: number;
  ms: number;
  ok: boolean;
}

/** The environment of a Go load generator (ghz, vegeta) with its garbage collector off, as above. */
export const goWithoutGc = (gogc = 'off'): NodeJS.ProcessEnv => ({
  ...process.env,
  GOGC: gogc,
  GOMEMLIMIT: '4GiB',
});

/** The ghz binary's path (built once, cached under ~/.cache/model-canary/ghz). */
export function ghzBinary(): string {
  return execFileSync('bash', [join(REPO_ROOT, 'tools/install-ghz.sh')])
    .toString()
    .trim();
}

/** `rate` ModelInfer calls a second to `model` at `address` for `seconds`; the request is `{age: [41]}`. */
export function ghz(
  binary: string,
  address: string,
  model: string,
  seconds: number,
  rate: number,
  how: { details?: boolean } = {},
): GhzFigures {
  const data = {
    model_name: model,
    inputs: [{ name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [41] } }],
  };
  return ghzCalls(binary, address, data, seconds, rate, how);
}

/** `rate` ModelInfer calls a second of `data` (a ModelInferRequest as JSON) for `seconds`. */
export function ghzCalls(
  binary: string,
  address: string,
  data: object,
  seconds: number,
  rate: number,
  how: { concurrency?: number; connections?: number; details?: boolean; gogc?: string } = {},
): GhzFigures {
  const out = execFileSync(
    binary,
    [
      '--insecure',
      '--proto',
      PROTO_FILE,
      '--call',
      'inference.GRPCInferenceService.ModelInfer',
      '-d',
      JSON.stringify(data),
      '--rps',
      String(rate),
      ...(how.connections ? ['--connections', String(how.connections)] : []),
      '--concurrency',
      String(how.concurrency ?? 50),
      '--duration',
      `${seconds}s`,
      '--duration-stop',
      'wait',
      '--format',
      'json',
      address,
    ],
    { maxBuffer: 256 * 1024 * 1024, env: goWithoutGc(how.gogc) },
  ).toString();
  const r = JSON.parse(out) as {
    count: number;
    rps: number;
    latencyDistribution: { percentage: number; latency: number }[] | null;
    statusCodeDistribution: Record<string, number>;
    errorDistribution?: Record<string, number> | null;
    details?: { timestamp: string; latency: number; status: string }[] | null;
  };
  const at = (p: number): number =>
    (r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  const failed = Object.entries(r.statusCodeDistribution)
    .filter(([code]) => code !== 'OK')
    .reduce((n, [, c]) => n + c, 0);
  const figures: GhzFigures = {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    rps: r.rps,
    total: r.count,
    failed,
    errors: r.errorDistribution ?? {},
  };
  if (how.details)
    figures.calls = (r.details ?? []).map((d) => ({
      end: epochMs(d.timestamp),
      ms: d.latency / 1e6,
      ok: d.status === 'OK',
    }));
  return figures;
}

/** An RFC 3339 time with nanoseconds (Go's) in ms since the epoch, keeping the sub-ms part. */
function epochMs(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Date.parse(text);
  return Date.parse(m[1]! + m[3]!) + Number(`0.${m[2] ?? '0'}`) * 1000;
}
