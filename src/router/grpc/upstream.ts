/**
 * Calls to the variants' V2 gRPC ports (MLServer's `grpc_port`) for requests that came over gRPC:
 * one grpc-js client per address (one HTTP/2 connection multiplexing every call, reconnected by
 * grpc-js), the client's deadline and cancellation passed on, and the answer handed to
 * `route.ts` in the shape of an HTTP answer, so augmentation, recording and failures follow the
 * same rules on both protocols:
 *
 * | upstream status                          | becomes                                             |
 * | ---------------------------------------- | --------------------------------------------------- |
 * | OK                                       | 200 with the V2 JSON of the response                |
 * | INVALID_ARGUMENT, OUT_OF_RANGE           | 400 answered (the client's mistake, not an error)   |
 * | NOT_FOUND                                | 404 answered                                        |
 * | RESOURCE_EXHAUSTED                       | 429 answered                                        |
 * | UNAVAILABLE                              | 502, unreachable (an error of the variant)          |
 * | DEADLINE_EXCEEDED                        | 504 (an error of the variant)                       |
 * | CANCELLED (the client cancelled)         | 499 (recorded, not an error)                        |
 * | anything else (INTERNAL, UNKNOWN, …)     | 500 answered → 502 (an error of the variant)        |
 */
import { Metadata, credentials, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { REQUEST_ID_HEADER } from '../../shared/routerApi';
import type { RoutedVariant } from '../config';
import { UpstreamError, type CallOptions, type UpstreamResponse } from '../proxy';
import { inferenceService } from './proto';
import { responseToJson, type GrpcInferRequest, type GrpcInferResponse } from './tensors';

type InferMethod = (
  request: GrpcInferRequest,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: GrpcInferResponse) => void,
) => { cancel(): void };

const ANSWERED: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.NOT_FOUND]: 404,
  [status.RESOURCE_EXHAUSTED]: 429,
};

export class GrpcUpstreams {
  private readonly clients = new Map<string, Client>();

  constructor(
    /** Used when the client set no deadline (timeouts.upstreamMs). */
    private readonly defaultTimeoutMs: number,
    private readonly maxMessageBytes = 64 * 1024 * 1024,
  ) {}

  private client(address: string): Client {
    let client = this.clients.get(address);
    if (!client) {
      const Service = inferenceService();
      client = new Service(address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.maxMessageBytes,
      });
      this.clients.set(address, client);
    }
    return client;
  }

  /** ModelInfer on the variant's gRPC port, with `outputs` (names) in place of the client's when given. */
  infer(
    variant: RoutedVariant & { grpc: string },
    request: GrpcInferRequest,
    id: string,
    outputs: readonly string[] | undefined,
    options: CallOptions,
  ): Promise<UpstreamResponse> {
    const where = `${variant.grpc} (model ${variant.model}, gRPC)`;
    const message: GrpcInferRequest = {
      ...request,
      model_name: variant.model,
      model_version: '',
      ...(outputs ? { outputs: outputs.map((name) => ({ name, parameters: {} })) } : {}),
    };
    const md = new Metadata();
    md.set(REQUEST_ID_HEADER, id);
    const deadline = Date.now() + (options.timeoutMs ?? this.defaultTimeoutMs);
    const client = this.client(variant.grpc) as unknown as { ModelInfer: InferMethod };
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted)
        return reject(new UpstreamError(499, `the client cancelled the call to ${where}`));
      const call = client.ModelInfer(message, md, { deadline }, (err, response) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (!err) {
          try {
            return resolve(json(200, responseToJson(response!)));
          } catch (e) {
            return resolve(
              json(500, { error: `${where} answered a malformed response: ${(e as Error).message}` }),
            );
          }
        }
        if (err.code === status.UNAVAILABLE)
          return reject(new UpstreamError(502, `${where} failed: ${err.details}`));
        if (err.code === status.DEADLINE_EXCEEDED)
          return reject(new UpstreamError(504, `${where} did not answer within the client's deadline`));
        if (err.code === status.CANCELLED)
          return reject(
            (options.signal?.reason as Error | undefined)?.name === 'TimeoutError'
              ? new UpstreamError(504, `${where} did not answer within the client's deadline`)
              : new UpstreamError(499, `the client cancelled the call to ${where}`),
          );
        resolve(json(ANSWERED[err.code] ?? 500, { error: `${status[err.code]}: ${err.details}` }));
      });
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

function json(status: number, body: unknown): UpstreamResponse {
  return { status, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}
