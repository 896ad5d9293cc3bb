/**
 * Calls to the variants' V2 gRPC ports (MLServer's `grpc_port`) for requests that came over gRPC,
 * on the router's own HTTP/2 client (`../h2/client.ts`; `wire.ts` says why): one connection per
 * address, multiplexing every call and opened again once it closes or the upstream sent GOAWAY;
 * the client's message bytes go upstream as they came, with the variant's model name (and, when the router wants them, the
 * outputs) appended — a later value of a singular field replaces an earlier one and a repeated
 * field's values add up (protobuf encoding, "Last One Wins"), so nothing is decoded and
 * re-encoded on the way. The client's deadline goes on as `grpc-timeout` and bounds the call; its
 * cancellation resets the stream. A call the server refused unprocessed (REFUSED_STREAM: it sent
 * GOAWAY, or was at its stream limit) is sent once more, on a new connection when that one is
 * going away. The answer reaches `route.ts` in the shape of an HTTP answer, so augmentation,
 * recording and failures follow the same rules on both protocols:
 *
 * | upstream status                          | becomes                                             |
 * | ---------------------------------------- | --------------------------------------------------- |
 * | OK                                       | 200 with the V2 JSON of the response                |
 * | INVALID_ARGUMENT, OUT_OF_RANGE           | 400 answered (the client's mistake, not an error)   |
 * | NOT_FOUND                                | 404 answered                                        |
 * | RESOURCE_EXHAUSTED                       | 429 answered                                        |
 * | UNAVAILABLE, or no connection            | 502, unreachable (an error of the variant)          |
 * | DEADLINE_EXCEEDED, or the deadline passed| 504 (an error of the variant)                       |
 * | CANCELLED (the client cancelled)         | 499 (recorded, not an error)                        |
 * | anything else (INTERNAL, UNKNOWN, …)     | 500 answered → 502 (an error of the variant)        |
 */
import { H2ClientConnection } from '../h2/client';
import { REQUEST_ID_HEADER } from '../../shared/routerApi';
import { UpstreamError, type CallOptions, type UpstreamResponse } from '../proxy';
import { decodeInferResponse } from './protoRead';
import { responseToJson, type GrpcInferResponse } from './tensors';
import { UpstreamCall, type CallOwner } from './upstreamCall';
import { SERVICE, retargeted, timeoutHeader, unframe } from './wire';

/**
 * An upstream's 200, with its decoded message and its bytes, so the front can pass them on, and
 * its V2 JSON as an object (route.ts reads its outputs). The JSON text is made only when read:
 * a gRPC client given the upstream's own bytes never needs it. A class, so `body` is one getter
 * on the prototype (`InferCall.body` in route.ts says why not one per object).
 */
export class GrpcUpstreamResponse implements UpstreamResponse {
  readonly status = 200;
  readonly contentType = 'application/json';
  private text: Buffer | undefined;

  constructor(
    readonly message: Uint8Array,
    readonly decoded: GrpcInferResponse,
    readonly json: Record<string, unknown>,
  ) {}

  get body(): Buffer {
    return (this.text ??= Buffer.from(JSON.stringify(this.json)));
  }
}

export class GrpcUpstreams implements CallOwner {
  private readonly sessions = new Map<string, H2ClientConnection>();
  /** The constant part of each address's request headers (flat: name, value, …). */
  private readonly heads = new Map<string, readonly string[]>();

  constructor(
    /** Used when the client set no deadline (timeouts.upstreamMs). */
    private readonly defaultTimeoutMs: number,
    readonly maxMessageBytes = 64 * 1024 * 1024,
  ) {}

  private session(address: string): H2ClientConnection {
    const open = this.sessions.get(address);
    if (open?.usable) return open;
    const url = new URL(`http://${address}`);
    const session = H2ClientConnection.open(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 80));
    // The pool does not keep the router alive; a connection's failure reaches its calls.
    session.unref();
    this.sessions.set(address, session);
    return session;
  }

  private head(address: string): readonly string[] {
    let head = this.heads.get(address);
    if (!head)
      this.heads.set(
        address,
        (head = [
          ':method',
          'POST',
          ':scheme',
          'http',
          ':authority',
          address,
          ':path',
          `/${SERVICE}/ModelInfer`,
          'content-type',
          'application/grpc',
          'te',
          'trailers',
        ]),
      );
    return head;
  }

  /** ModelInfer of `model` at `address` (a variant's gRPC port): the client's `message` bytes, retargeted; `outputs` (names) added when given. */
  infer(
    address: string,
    model: string,
    message: Uint8Array,
    id: string,
    outputs: readonly string[] | undefined,
    options: CallOptions,
  ): Promise<UpstreamResponse> {
    const where = `${address} (model ${model}, gRPC)`;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted)
        return reject(new UpstreamError(499, `the client cancelled the call to ${where}`));
      const timer = options.signalsDeadline && options.signal ? undefined : timeoutMs;
      const call = new UpstreamCall(this, where, timer, options.signal, resolve, reject);
      const fields = [...this.head(address), 'grpc-timeout', timeoutHeader(timeoutMs), REQUEST_ID_HEADER, id];
      const body = retargeted(message, model, outputs);
      const send = (): void => call.started(this.session(address).request(fields, body, call));
      // A stream the server refused unprocessed goes once more (UpstreamCall.close).
      call.resend = send;
      send();
    });
  }

  decode(where: string, body: Buffer): UpstreamResponse {
    const unframed = unframe(body);
    try {
      if (!unframed.ok) throw new Error(unframed.details);
      const decoded = decodeInferResponse(unframed.message);
      // Made now, not when read: it checks each output's contents against its shape.
      return new GrpcUpstreamResponse(unframed.message, decoded, responseToJson(decoded));
    } catch (e) {
      return json(500, { error: `${where} answered a malformed response: ${(e as Error).message}` });
    }
  }

  answered(status: number, error: string): UpstreamResponse {
    return json(status, { error });
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy(new Error('the router is shutting down'));
    this.sessions.clear();
  }
}

function json(status: number, body: unknown): UpstreamResponse {
  return { status, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}
