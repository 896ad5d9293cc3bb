/**
 * The router's gRPC front: the Open Inference Protocol's `inference.GRPCInferenceService` on its
 * own port (`grpcListen`), served on the router's own HTTP/2 (`../h2/`, h2c with prior knowledge)
 * with the proto's messages typed by protobufjs (`proto.ts`; `wire.ts` says why neither grpc-js
 * nor `node:http2`). ModelInfer goes through the same routing, recording and shadow as HTTP
 * (`route.ts`); the routing hints come from metadata instead of headers, under the same names.
 * Nothing a client sends can throw past a handler: a malformed message is INTERNAL ("error
 * deserializing request"), an unknown method UNIMPLEMENTED, a message over the body limit
 * RESOURCE_EXHAUSTED.
 */
import { createH2Server } from '../h2/server';
import type { H2Stream } from '../h2/stream';
import type { RouterCore } from '../core';
import { endpointMetadata, endpointReadiness } from '../models';
import { handleModelInfer, type UnaryAnswer, type UnaryCall } from './infer';
import { decodeMessage, encodeMessage } from './proto';
import { FrontCall, type FrontContext } from './frontCall';
import { GrpcUpstreams } from './upstream';
import { Code, SERVICE, fail, metadataOf, timeoutMs } from './wire';

export interface GrpcFront {
  readonly host: string;
  readonly port: number;
  /** Stops taking calls, waits up to `ms` for those in flight, then closes the rest. */
  shutdown(ms: number): Promise<void>;
}

type Handler = (call: UnaryCall) => Promise<UnaryAnswer>;

/** Binds the gRPC front to `core.settings.grpc`; resolves once it listens. */
export async function startGrpcFront(core: RouterCore, log: (m: string) => void): Promise<GrpcFront> {
  const address = core.settings.grpc!;
  let accepting = true;
  const maxBytes = core.settings.limits.maxBodyBytes;
  const upstreams = new GrpcUpstreams(core.settings.timeouts.upstreamMs, 64 * 1024 * 1024);

  const endpoint = (name: string) => {
    const exp = core.experimentByEndpoint(name);
    if (!exp) {
      const served = core.experiments.map((e) => e.endpoint);
      throw Object.assign(
        new Error(
          `unknown model "${name}" — this router serves ${served.length ? served.join(', ') : 'no models'}`,
        ),
        { grpcCode: Code.NOT_FOUND },
      );
    }
    return exp;
  };

  /** A method whose request and response are plain messages of the proto. */
  const plain =
    <Req>(request: string, response: string, run: (req: Req) => Promise<object>): Handler =>
    async (call) => {
      let req: Req;
      try {
        req = decodeMessage<Req>(request, call.message);
      } catch (err) {
        throw Object.assign(new Error(`error deserializing request: ${(err as Error).message}`), {
          grpcCode: Code.INTERNAL,
        });
      }
      return { message: encodeMessage(response, await run(req)), metadata: {} };
    };

  const methods = new Map<string, Handler>([
    ['ServerLive', plain('ServerLiveRequest', 'ServerLiveResponse', async () => ({ live: true }))],
    ['ServerReady', plain('ServerReadyRequest', 'ServerReadyResponse', async () => ({ ready: accepting }))],
    [
      'ServerMetadata',
      plain('ServerMetadataRequest', 'ServerMetadataResponse', async () => ({
        name: 'model-canary-router',
        version: '',
        extensions: [],
      })),
    ],
    [
      'ModelReady',
      plain('ModelReadyRequest', 'ModelReadyResponse', async (req: { name: string }) => ({
        ready: (await endpointReadiness(core, endpoint(req.name))).ready,
      })),
    ],
    [
      'ModelMetadata',
      plain('ModelMetadataRequest', 'ModelMetadataResponse', async (req: { name: string }) => {
        const meta = await endpointMetadata(core, endpoint(req.name));
        return {
          name: meta.name,
          versions: meta.versions,
          platform: typeof meta.platform === 'string' ? meta.platform : 'model-canary',
          inputs: tensorMetadata(meta.inputs),
          outputs: tensorMetadata(meta.outputs),
        };
      }),
    ],
    ['ModelInfer', (call) => handleModelInfer(core, call, endpoint, upstreams)],
  ]);

  const context: FrontContext = {
    maxBytes,
    rejected: () => core.metrics.rejectedRequest(400),
    log,
  };
  const onStream = (stream: H2Stream, fields: string[]): void => {
    const headers = metadataOf(fields);
    const path = String(headers[':path'] ?? '');
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) return stream.sendHeaders([':status', '415'], true);
    const handler = path.startsWith(`/${SERVICE}/`) ? methods.get(path.slice(SERVICE.length + 2)) : undefined;
    if (headers[':method'] !== 'POST' || !handler)
      return fail(stream, Code.UNIMPLEMENTED, `the router does not implement ${path}`);
    new FrontCall(stream, headers, path, handler, context, timeoutMs(headers['grpc-timeout']));
  };

  const { server, connections } = createH2Server(onStream, {
    maxConcurrentStreams: 1_000,
    // A stream may carry a message up to the body limit; the window only paces it.
    streamWindow: 1024 * 1024,
    // What a connection's open calls may hold in all: 16 bodies at the limit, 64 MiB at least.
    maxBufferedBytes: Math.max(64 * 1024 * 1024, 16 * maxBytes),
  });
  // As the HTTP front: connections beyond the limit are closed as they come.
  server.maxConnections = core.settings.limits.maxConnections;

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`the gRPC front cannot listen on ${address.host}:${address.port}: ${err.message}`)),
    );
    server.listen(address.port, address.host, () => {
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : address.port);
    });
  });
  return {
    host: address.host,
    port,
    async shutdown(ms) {
      accepting = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: the calls in flight finish, new ones go elsewhere.
      for (const c of connections) c.goaway();
      await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
      for (const c of [...connections]) c.destroy(new Error('the router is shutting down'));
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
