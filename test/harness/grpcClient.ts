/**
 * A Node @grpc/grpc-js client of the Open Inference Protocol's GRPCInferenceService, loaded from
 * the router's vendored proto with the options the router uses, for tests and benchmarks.
 */
import {
  Metadata,
  credentials,
  loadPackageDefinition,
  type Client,
  type GrpcObject,
  type ServiceError,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { GRPC_LOADER_OPTIONS as LOADER_OPTIONS } from '../../src/shared/grpcProto';
import { REPO_ROOT } from './tools';

export const PROTO_FILE = join(REPO_ROOT, 'src/shared/grpc_predict_v2.proto');

export interface GrpcAnswer<T> {
  error: ServiceError | undefined;
  response: T | undefined;
  /** Initial metadata (absent on an error answered before it), then the trailers. */
  headers: Metadata | undefined;
  trailers: Metadata | undefined;
}

export class InferenceClient {
  readonly client: Client;

  constructor(address: string) {
    const pkg = loadPackageDefinition(loadSync(PROTO_FILE, LOADER_OPTIONS));
    const Service = (pkg.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
    this.client = new Service(address, credentials.createInsecure());
  }

  /** One unary call; never rejects (the status is in `error`). */
  call<T = Record<string, unknown>>(
    method: string,
    request: object,
    metadata: Record<string, string> = {},
    options: { deadlineMs?: number; signal?: AbortSignal } = {},
  ): Promise<GrpcAnswer<T>> {
    const md = new Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      let headers: Metadata | undefined;
      let trailers: Metadata | undefined;
      const fn = (
        this.client as unknown as Record<string, (...a: unknown[]) => ReturnType<Client['makeUnaryRequest']>>
      )[method]!.bind(this.client);
      const call = fn(
        request,
        md,
        options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs },
        (error: ServiceError | null, response: T | undefined) =>
          // The status (and trailers) come after the callback's turn; wait for them.
          setImmediate(() => resolve({ error: error ?? undefined, response, headers, trailers })),
      );
      call.on('metadata', (m: Metadata) => (headers = m));
      call.on('status', (s: { metadata: Metadata }) => (trailers = s.metadata));
      options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}
