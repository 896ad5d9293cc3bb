/**
 * The router's gRPC front: the Open Inference Protocol's `inference.GRPCInferenceService` on its
 * own port (`grpcListen`), with @grpc/grpc-js. ModelInfer goes through the same routing,
 * recording and shadow as HTTP (`route.ts`); the routing hints come from metadata instead of
 * headers, under the same names. Malformed frames never reach a handler: grpc-js answers them
 * INTERNAL ("error deserializing request") by itself.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { RouterCore } from '../core';
import { endpointMetadata, endpointReadiness } from '../models';
import { handleModelInfer } from './infer';
import { errorStatus, type GrpcFailure } from './status';
import { inferenceService } from './proto';
import { GrpcUpstreams } from './upstream';

export interface GrpcFront {
  readonly host: string;
  readonly port: number;
  /** Stops taking calls, waits up to `ms` for those in flight, then closes the rest. */
  shutdown(ms: number): Promise<void>;
}

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** Binds the gRPC front to `core.settings.grpc`; resolves once it listens. */
export async function startGrpcFront(core: RouterCore, log: (m: string) => void): Promise<GrpcFront> {
  const address = core.settings.grpc!;
  let accepting = true;
  const upstreams = new GrpcUpstreams(core.settings.timeouts.upstreamMs, 64 * 1024 * 1024);
  const server = new Server({
    'grpc.max_receive_message_length': core.settings.limits.maxBodyBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });

  // Every handler's failure becomes a status; nothing a client sends can throw past here.
  const unary =
    <Req, Res>(handler: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): Unary<Req, Res> =>
    (call, callback) => {
      handler(call).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const failure: GrpcFailure = errorStatus(err);
          if (failure.code === status.INTERNAL)
            log(`error on gRPC ${call.getPath()}: ${(err as Error)?.stack ?? String(err)}`);
          callback({
            code: failure.code,
            details: failure.details,
            metadata: failure.metadata ?? new Metadata(),
          });
        },
      );
    };

  const endpoint = (name: string) => {
    const exp = core.experimentByEndpoint(name);
    if (!exp) {
      const served = core.experiments.map((e) => e.endpoint);
      throw Object.assign(
        new Error(
          `unknown model "${name}" — this router serves ${served.length ? served.join(', ') : 'no models'}`,
        ),
        { grpcCode: status.NOT_FOUND },
      );
    }
    return exp;
  };

  const impl: UntypedServiceImplementation = {
    ServerLive: unary(async () => ({ live: true })),
    ServerReady: unary(async () => ({ ready: accepting })),
    ServerMetadata: unary(async () => ({ name: 'model-canary-router', version: '', extensions: [] })),
    ModelReady: unary(async (call: ServerUnaryCall<{ name: string }, unknown>) => ({
      ready: (await endpointReadiness(core, endpoint(call.request.name))).ready,
    })),
    ModelMetadata: unary(async (call: ServerUnaryCall<{ name: string }, unknown>) => {
      const meta = await endpointMetadata(core, endpoint(call.request.name));
      return {
        name: meta.name,
        versions: meta.versions,
        platform: typeof meta.platform === 'string' ? meta.platform : 'model-canary',
        inputs: tensorMetadata(meta.inputs),
        outputs: tensorMetadata(meta.outputs),
      };
    }),
    ModelInfer: unary((call: ServerUnaryCall<unknown, unknown>) =>
      handleModelInfer(core, call, endpoint, upstreams),
    ),
  };
  server.addService(inferenceService().service, impl);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address.host}:${address.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err
        ? reject(new Error(`the gRPC front cannot listen on ${address.host}:${address.port}: ${err.message}`))
        : resolve(bound),
    ),
  );
  return {
    host: address.host,
    port,
    async shutdown(ms) {
      accepting = false;
      await Promise.race([
        new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
      ]);
      server.forceShutdown();
      upstreams.close();
    },
  };
}

function tensorMetadata(list: unknown): { name: string; datatype: string; shape: number[] }[] {
  if (!Array.isArray(list)) return [];
  return list.map((t: { name?: unknown; datatype?: unknown; shape?: unknown }) => ({
    name: typeof t?.name === 'string' ? t.name : '',
    datatype: typeof t?.datatype === 'string' ? t.datatype : '',
    shape: Array.isArray(t?.shape) ? t.shape.map(Number).filter(Number.isFinite) : [],
  }));
}
