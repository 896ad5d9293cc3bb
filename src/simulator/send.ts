/**
 * How the simulator sends one V2 request to the router: over HTTP (JSON, one pooled fetch) or
 * over gRPC (the router's GRPCInferenceService, typed contents). Both answer the same shape, so
 * the replay, the outcome model and the feedback do not care which.
 */
import {
  Metadata,
  credentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { GRPC_LOADER_OPTIONS } from '../shared/grpcProto';
import { REQUEST_ID_HEADER, VARIANT_HEADER, routerPaths } from '../shared/routerApi';

export interface V2Input {
  name: string;
  shape: number[];
  datatype: 'INT64' | 'FP64' | 'BYTES';
  data: (number | string)[];
}

export interface V2Request {
  parameters: Record<string, string>;
  inputs: V2Input[];
  outputs: { name: string }[];
}

export interface SentOutput {
  name: string;
  data: number[];
  shape?: number[];
}

/** One answer: `ok` with the outputs, or the failure in words. */
export interface SendResult {
  ok: boolean;
  variant: string | undefined;
  requestId: string | undefined;
  outputs?: SentOutput[];
  error?: string;
}

export interface Sender {
  send(endpoint: string, headers: Record<string, string>, request: V2Request): Promise<SendResult>;
  close(): void;
}

/** JSON over HTTP to `routerUrl`. */
export function httpSender(routerUrl: string): Sender {
  return {
    async send(endpoint, headers, request) {
      const res = await postWithRetry(
        `${routerUrl}${routerPaths.infer(endpoint)}`,
        { 'content-type': 'application/json', ...headers },
        JSON.stringify(request),
      );
      const variant = res.headers.get(VARIANT_HEADER) ?? undefined;
      const requestId = res.headers.get(REQUEST_ID_HEADER) ?? undefined;
      if (!res.ok)
        return {
          ok: false,
          variant,
          requestId,
          error: `infer ${res.status}: ${(await res.text()).slice(0, 200)}`,
        };
      const body = (await res.json()) as { outputs?: SentOutput[] };
      return { ok: true, variant, requestId, ...(body.outputs ? { outputs: body.outputs } : {}) };
    },
    close() {},
  };
}

// A pooled keep-alive connection can be closed by the server just as it is reused; that
// request never reached the router, so sending it once more is safe.
async function postWithRetry(url: string, headers: Record<string, string>, body: string): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET' && code !== 'EPIPE') throw err;
    return fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  }
}

interface GrpcOutput {
  name: string;
  shape: number[];
  contents: { fp64_contents: number[]; fp32_contents: number[]; int64_contents: number[] } | null;
}

type ModelInfer = (
  request: object,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: { outputs: GrpcOutput[] }) => void,
) => { on(event: 'metadata', listener: (m: Metadata) => void): void };

/** The router's gRPC front at `address` (host:port), typed contents, one HTTP/2 channel. */
export async function grpcSender(address: string): Promise<Sender> {
  // The same load as the router's (src/router/grpc/proto.ts); the layers keep the two apart.
  // Imported when used: the proto is bundled as text (esbuild.mjs), which tsx-run tools and
  // tests that import the CLI's command table cannot load.
  const { default: protoText } = await import('../shared/grpc_predict_v2.proto');
  const pkg = loadPackageDefinition(
    fromJSON(protobuf.parse(protoText, { keepCase: true }).root.toJSON(), GRPC_LOADER_OPTIONS),
  );
  const Service = (pkg.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  const client = new Service(address, credentials.createInsecure());
  const infer = (client as unknown as { ModelInfer: ModelInfer }).ModelInfer.bind(client);
  return {
    send(endpoint, headers, request) {
      const md = new Metadata();
      for (const [k, v] of Object.entries(headers)) md.set(k, v);
      const message = {
        model_name: endpoint,
        parameters: Object.fromEntries(
          Object.entries(request.parameters).map(([k, v]) => [k, { string_param: v }]),
        ),
        inputs: request.inputs.map((i) => ({
          name: i.name,
          datatype: i.datatype,
          shape: i.shape,
          contents:
            i.datatype === 'BYTES'
              ? { bytes_contents: i.data.map((v) => Buffer.from(String(v))) }
              : i.datatype === 'INT64'
                ? { int64_contents: i.data }
                : { fp64_contents: i.data },
        })),
        outputs: request.outputs,
      };
      return new Promise((resolve) => {
        let answered: Metadata | undefined;
        const call = infer(message, md, { deadline: Date.now() + 30_000 }, (err, response) => {
          const variant = answered?.get(VARIANT_HEADER)[0] ?? err?.metadata?.get(VARIANT_HEADER)[0];
          const requestId = answered?.get(REQUEST_ID_HEADER)[0] ?? err?.metadata?.get(REQUEST_ID_HEADER)[0];
          const ids = {
            variant: typeof variant === 'string' ? variant : undefined,
            requestId: typeof requestId === 'string' ? requestId : undefined,
          };
          if (err || !response)
            return resolve({ ok: false, ...ids, error: `infer ${err?.code}: ${err?.details}` });
          const outputs = response.outputs.map((o) => ({
            name: o.name,
            shape: o.shape,
            // Typed in, typed out: the router answers raw only to raw requests.
            data: [
              ...(o.contents?.fp64_contents ?? []),
              ...(o.contents?.fp32_contents ?? []),
              ...(o.contents?.int64_contents ?? []),
            ],
          }));
          resolve({ ok: true, ...ids, outputs });
        });
        call.on('metadata', (m) => (answered = m));
      });
    },
    close() {
      client.close();
    },
  };
}
