/**
 * A small V2 gRPC server (GRPCInferenceService's ModelInfer and health) for benchmarks: it answers
 * `predict` for each row like the fake HTTP upstream (test/harness/upstream.ts), typed or raw as
 * asked. Run standalone so it has its own core:
 * `node --import tsx test/harness/grpcUpstream.ts [--port N]` prints
 * `grpc upstream listening on 127.0.0.1:<port>`.
 */
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { GRPC_LOADER_OPTIONS } from '../../src/shared/grpcProto';
import { PROTO_FILE } from './grpcClient';
import { fakeClass } from './upstream';

interface Tensor {
  shape: number[];
  contents: { int64_contents: number[]; fp64_contents: number[] } | null;
}

/** Starts the server on 127.0.0.1 (`port` 0: any free port); resolves with the port and a stop. */
export interface GrpcUpstreamCall {
  model: string;
  requestId: string | undefined;
  rawInputs: number;
  outputs: string[];
}

export async function startGrpcUpstream(
  port = 0,
  opts: {
    /** ModelInfer answers after this long (a model slower than a client's deadline). */ latencyMs?: number;
  } = {},
): Promise<{ port: number; calls: GrpcUpstreamCall[]; stop(): void }> {
  const calls: GrpcUpstreamCall[] = [];
  const pkg = loadPackageDefinition(loadSync(PROTO_FILE, GRPC_LOADER_OPTIONS));
  const Service = (pkg.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  const server = new Server();
  const impl: UntypedServiceImplementation = {
    ServerLive: (_call: unknown, cb: (e: null, r: object) => void) => cb(null, { live: true }),
    ServerReady: (_call: unknown, cb: (e: null, r: object) => void) => cb(null, { ready: true }),
    ModelReady: (_call: unknown, cb: (e: null, r: object) => void) => cb(null, { ready: true }),
    ModelInfer: (
      call: {
        request: {
          model_name: string;
          id: string;
          inputs: Tensor[];
          outputs: { name: string }[];
          raw_input_contents: Buffer[];
        };
        metadata: { get(key: string): unknown[] };
      },
      answer: (e: null, r: object) => void,
    ) => {
      const cb = opts.latencyMs
        ? (e: null, r: object) => void setTimeout(() => answer(e, r), opts.latencyMs).unref()
        : answer;
      const req = call.request;
      const id = call.metadata.get('x-request-id')[0];
      calls.push({
        model: req.model_name,
        requestId: typeof id === 'string' ? id : undefined,
        rawInputs: req.raw_input_contents.length,
        outputs: req.outputs.map((o) => o.name),
      });
      const first = req.inputs[0];
      const rows = first?.shape[0] ?? 1;
      const raw = req.raw_input_contents.length > 0;
      const values = raw
        ? Array.from({ length: rows }, (_, i) => Number(req.raw_input_contents[0]!.readBigInt64LE(i * 8)))
        : (first?.contents?.int64_contents ?? first?.contents?.fp64_contents ?? []);
      const predict = Array.from({ length: rows }, (_, i) => fakeClass(values[i] ?? 0));
      const output = { name: 'predict', datatype: 'INT64', shape: [rows] };
      if (!raw)
        return cb(null, {
          model_name: req.model_name,
          id: req.id,
          outputs: [{ ...output, contents: { int64_contents: predict } }],
        });
      const bytes = Buffer.alloc(rows * 8);
      predict.forEach((p, i) => bytes.writeBigInt64LE(BigInt(p), i * 8));
      cb(null, { model_name: req.model_name, id: req.id, outputs: [output], raw_output_contents: [bytes] });
    },
  };
  server.addService(Service.service, impl);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port: bound, calls, stop: () => server.forceShutdown() };
}

if (process.argv[1] && /grpcUpstream\.ts$/.test(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const u = await startGrpcUpstream(i > 0 ? Number(process.argv[i + 1]) : 0);
  // The recorded calls would grow without bound under load.
  u.calls.push = () => 0;
  console.log(`grpc upstream listening on 127.0.0.1:${u.port}`);
}
