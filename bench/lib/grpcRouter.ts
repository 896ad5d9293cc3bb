/** The router config of the gRPC benches: experiment `propensity`, one variant on the fake upstreams. */
import { writeRouterConfig } from '../../test/harness/router';

/** Writes it in `dir` (returns its path): the variant's `http` and `grpc` addresses, gRPC front on any free port. */
export function writeGrpcBenchConfig(
  dir: string,
  http: string,
  grpc: string,
  sampleRate?: number,
): Promise<string> {
  return writeRouterConfig(dir, {
    grpcListen: '127.0.0.1:0',
    experiments: [
      {
        name: 'propensity',
        endpoint: 'propensity',
        ...(sampleRate !== undefined ? { sampleRate } : {}),
        variants: [{ name: 'v1', url: http, grpc, model: 'propensity-v1', weight: 1 }],
      },
    ],
  });
}
