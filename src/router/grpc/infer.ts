/**
 * `ModelInfer` on the gRPC front: the request becomes V2 JSON (typed or raw contents decoded),
 * goes through `route.ts` like an HTTP request, and the answer goes back in the encoding the
 * client used — raw outputs when it sent raw inputs, typed otherwise; an upstream gRPC answer
 * already in that encoding goes back as its own bytes. Metadata carries what HTTP headers carry:
 * `x-request-id` (the client's, else a new one; answered in both the initial and the trailing
 * metadata, so feedback over HTTP can name it), `x-model-canary-variant` (forces a variant;
 * answered with the variant chosen), the experiment's sticky key and debug headers. The
 * client's deadline bounds the upstream call and its cancellation aborts it.
 */
import protobuf from 'protobufjs';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../../shared/routerApi';
import type { ExperimentRuntime } from '../config';
import type { RouterCore } from '../core';
import { HttpError } from '../http';
import type { CancelSignal } from '../proxy';
import { forcedIndex, routeInfer, type InferOutcome } from '../route';
import { checkInferRequest, type V2InferRequest } from '../v2';
import { newRequestId } from '../replicas';
import { encodeMessage } from './proto';
import { decodeInferRequest } from './protoRead';
import { withoutOutputs } from './outputs';
import { GrpcError, grpcCode } from './status';
import { GrpcUpstreamResponse, type GrpcUpstreams } from './upstream';
import { requestToJson, responseFromJson, type GrpcInferRequest } from './tensors';
import { Code, metadataText as text, type GrpcMetadata, type RequestMetadata } from './wire';

/** A unary call as the front hands it over. */
export interface UnaryCall {
  headers: RequestMetadata;
  /** The request message's bytes (unframed). */
  message: Buffer;
  /** Epoch ms of the client's deadline; Infinity without one. */
  deadline: number;
  /** Aborted when the client cancels (no reason) or the deadline passes (a TimeoutError). */
  signal: CancelSignal;
}

/** The encoded response and the metadata for its headers and trailers. */
export interface UnaryAnswer {
  message: Uint8Array;
  metadata: GrpcMetadata;
}

const MAX_ID_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Handles one ModelInfer call; `endpoint` resolves the model name or throws NOT_FOUND. */
export async function handleModelInfer(
  core: RouterCore,
  call: UnaryCall,
  endpoint: (name: string) => ExperimentRuntime,
  upstreams: GrpcUpstreams,
): Promise<UnaryAnswer> {
  const started = performance.now();
  const ts = Date.now();
  const md = call.headers;
  const answer: GrpcMetadata = {};
  const sent = text(md, REQUEST_ID_HEADER);
  if (sent !== undefined && (sent.length > MAX_ID_LENGTH || !PRINTABLE.test(sent)))
    return reject(
      core,
      400,
      `${REQUEST_ID_HEADER} must be 1–${MAX_ID_LENGTH} printable ASCII characters`,
      answer,
    );
  const id = sent ?? newRequestId(core);
  answer[REQUEST_ID_HEADER] = id;

  let msg: GrpcInferRequest;
  try {
    msg = decodeInferRequest(call.message);
  } catch (err) {
    core.metrics.rejectedRequest(400);
    throw new GrpcError(Code.INTERNAL, `error deserializing request: ${(err as Error).message}`, answer);
  }
  let exp: ExperimentRuntime;
  let json: V2InferRequest;
  const forced = text(md, VARIANT_HEADER);
  try {
    exp = endpoint(msg.model_name);
    if (forced !== undefined) forcedIndex(exp, forced);
    json = requestToJson(msg);
    const checked = checkInferRequest(json);
    if (!checked.ok) throw new HttpError(400, checked.error);
  } catch (err) {
    if (err instanceof HttpError) return reject(core, err.status, err.message, answer);
    const code = (err as { grpcCode?: number }).grpcCode;
    if (code !== undefined) {
      core.metrics.rejectedRequest(404);
      throw new GrpcError(code, (err as Error).message, answer);
    }
    throw err;
  }

  // The JSON body only when a variant is called over HTTP or the shadow gets the request.
  let body: Buffer | undefined;
  const jsonBody = (): Buffer => (body ??= Buffer.from(JSON.stringify(json)));
  const upstream = {
    signal: call.signal,
    ...(Number.isFinite(call.deadline)
      ? { timeoutMs: call.deadline - Date.now(), signalsDeadline: true }
      : {}),
  };
  const stickyKey = exp.stickyHeader ? text(md, exp.stickyHeader) : undefined;
  const debugHeader = exp.experiment.spec.routing?.debugHeaders?.find((h) => md[h] !== undefined);
  const outcome = await routeInfer(core, exp, {
    id,
    protocol: 'grpc',
    request: json,
    body: jsonBody,
    started,
    ts,
    upstream,
    // A variant with a gRPC port gets the client's message itself (raw contents stay raw).
    send: (variant, outputs) =>
      variant.grpc
        ? upstreams.infer(variant.grpc, variant.model, call.message, id, outputs, upstream)
        : undefined,
    ...(forced !== undefined ? { forced } : {}),
    ...(stickyKey !== undefined ? { stickyKey } : {}),
    ...(debugHeader ? { debugHeader } : {}),
  });
  answer[VARIANT_HEADER] = outcome.variant.name;

  if (outcome.status !== 200) {
    const details = outcome.error ?? errorText(outcome.body) ?? `the variant answered ${outcome.status}`;
    throw new GrpcError(grpcCode(outcome.status, outcome.upstreamStatus !== undefined), details, answer);
  }
  const raw = (msg.raw_input_contents?.length ?? 0) > 0;
  const message = passThrough(outcome, raw, msg.id) ?? encodeResponse(outcome, raw, msg.id, answer);
  // The shadow starts once the answer is on its way (the front writes it before this turn ends).
  if (outcome.mirrored) setImmediate(() => core.shadow.mirror(exp, id, json, jsonBody()));
  return { message, metadata: answer };
}

/**
 * The upstream's own bytes when they are in the client's encoding and the router changed
 * nothing, or only left out the outputs it asked for on top of the client's (`outputs.ts`).
 */
function passThrough(outcome: InferOutcome, raw: boolean, id: string | undefined): Uint8Array | undefined {
  const up = outcome.answer;
  if (!(up instanceof GrpcUpstreamResponse) || up.decoded.raw_output_contents.length > 0 !== raw)
    return undefined;
  let bytes: Uint8Array | undefined;
  if (!outcome.kept) bytes = up.message;
  else {
    const outs = up.decoded.outputs;
    const raws = up.decoded.raw_output_contents.length;
    if (raws > 0 && raws !== outs.length) return undefined;
    const kept = outcome.kept;
    bytes = withoutOutputs(
      up.message,
      outs.map((o) => kept.has(o.name)),
    );
  }
  if (!bytes) return undefined;
  if (up.decoded.id || !id) return bytes;
  // The request's id, appended (field 3): a later value of a singular field replaces an earlier one.
  const extra = protobuf.Writer.create().uint32(26).string(id).finish();
  return Buffer.concat([bytes, extra]);
}

function encodeResponse(
  outcome: { body: Buffer; variant: { name: string } },
  raw: boolean,
  id: string | undefined,
  answer: GrpcMetadata,
): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(outcome.body.toString('utf8'));
  } catch {
    throw new GrpcError(
      grpcCode(502, true),
      `variant ${outcome.variant.name} answered 200 with a body that is not V2 JSON`,
      answer,
    );
  }
  const response = responseFromJson(parsed, raw);
  if (!response.id && id) response.id = id;
  return encodeMessage('ModelInferResponse', response);
}

function reject(core: RouterCore, status: number, message: string, metadata: GrpcMetadata): never {
  core.metrics.rejectedRequest(status);
  throw new GrpcError(grpcCode(status), message, metadata);
}

function errorText(body: Buffer): string | undefined {
  try {
    const e = (JSON.parse(body.toString('utf8')) as { error?: unknown }).error;
    return typeof e === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}
