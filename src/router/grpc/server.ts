/**
 * The router's gRPC front: the Open Inference Protocol's `inference.GRPCInferenceService` on its
 * own port (`grpcListen`), served on `node:http2` (h2c) with the proto's messages typed by
 * protobufjs (`proto.ts`; `wire.ts` says why not grpc-js). ModelInfer goes through the same
 * routing, recording and shadow as HTTP (`route.ts`); the routing hints come from metadata
 * instead of headers, under the same names. Nothing a client sends can throw past a handler:
 * a malformed message is INTERNAL ("error deserializing request"), an unknown method
 * UNIMPLEMENTED, a message over the body limit RESOURCE_EXHAUSTED.
 */
import {
  createServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { RouterCore } from '../core';
import { endpointMetadata, endpointReadiness } from '../models';
import { handleModelInfer, type UnaryAnswer, type UnaryCall } from './infer';
import { SERVICE, decodeMessage, encodeMessage } from './proto';
import { FrontCall, type FrontContext } from './frontCall';
import { GrpcUpstreams } from './upstream';
import { Code, fail, timeoutMs } from './wire';

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
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    // A client's reset or a broken session ends the stream; nothing more to answer.
    stream.on('error', ignore);
    const path = String(headers[':path'] ?? '');
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) {
      if (!stream.headersSent) stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const handler = path.startsWith(`/${SERVICE}/`) ? methods.get(path.slice(SERVICE.length + 2)) : undefined;
    if (headers[':method'] !== 'POST' || !handler) {
      stream.resume();
      return fail(stream, Code.UNIMPLEMENTED, `the router does not implement ${path}`);
    }
    new FrontCall(stream, headers, path, handler, context, timeoutMs(headers['grpc-timeout']));
  };

  const sessions = new Set<Http2Session>();
  const server = createServer({ settings: { maxConcurrentStreams: 1_000 } });
  server.on('stream', onStream);
  // TCP_NODELAY, as Node's HTTP server sets it: a client's calls share one connection, and an
  // answer written while an earlier one is not yet acknowledged must not wait for that ACK.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);

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
      for (const s of sessions) s.close();
      await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
      for (const s of sessions) s.destroy();
      upstreams.close();
    },
  };
}

/** A stream's error listener once nothing more is to be answered; it holds nothing. */
function ignore(): void {}

function tensorMetadata(list: unknown): { name: string; datatype: string; shape: number[] }[] {
  if (!Array.isArray(list)) return [];
  return list.map((t: { name?: unknown; datatype?: unknown; shape?: unknown }) => ({
    name: typeof t?.name === 'string' ? t.name : '',
    datatype: typeof t?.datatype === 'string' ? t.datatype : '',
    shape: Array.isArray(t?.shape) ? t.shape.map(Number).filter(Number.isFinite) : [],
  }));
}
