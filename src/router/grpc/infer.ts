/**
 * `ModelInfer` on the gRPC front: the request becomes V2 JSON (typed or raw contents decoded),
 * goes through `route.ts` like an HTTP request, and the answer becomes a ModelInferResponse —
 * raw outputs when the client sent raw inputs, typed otherwise. Metadata carries what HTTP
 * headers carry: `x-request-id` (the client's, else a new one; answered in both the initial and
 * the trailing metadata, so feedback over HTTP can name it), `x-model-canary-variant` (forces a
 * variant; answered with the variant chosen), the experiment's sticky key and debug headers.
 * The client's deadline bounds the upstream call and its cancellation aborts it.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../../shared/routerApi';
import type { ExperimentRuntime } from '../config';
import type { RouterCore } from '../core';
import { HttpError } from '../http';
import { forcedIndex, routeInfer } from '../route';
import { checkInferRequest } from '../v2';
import { GrpcError, grpcCode } from './status';
import type { GrpcUpstreams } from './upstream';
import { requestToJson, responseFromJson, type GrpcInferRequest, type GrpcInferResponse } from './tensors';

const MAX_ID_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

function text(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/** Handles one ModelInfer call; `endpoint` resolves the model name or throws NOT_FOUND. */
export async function handleModelInfer(
  core: RouterCore,
  call: ServerUnaryCall<unknown, unknown>,
  endpoint: (name: string) => ExperimentRuntime,
  upstreams: GrpcUpstreams,
): Promise<GrpcInferResponse> {
  const started = performance.now();
  const ts = Date.now();
  const md = call.metadata;
  const answer = new Metadata();
  const sent = text(md, REQUEST_ID_HEADER);
  if (sent !== undefined && (sent.length > MAX_ID_LENGTH || !PRINTABLE.test(sent)))
    return reject(
      core,
      400,
      `${REQUEST_ID_HEADER} must be 1–${MAX_ID_LENGTH} printable ASCII characters`,
      answer,
    );
  const id = sent ?? randomUUID();
  answer.set(REQUEST_ID_HEADER, id);

  const msg = call.request as unknown as GrpcInferRequest;
  let exp: ExperimentRuntime;
  let json;
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

  const body = Buffer.from(JSON.stringify(json));
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  const controller = new AbortController();
  // grpc-js also reports a passed deadline as 'cancelled' (that one is the variant's timeout),
  // and reports 'cancelled' once a call has ended too: only a call still routing is aborted.
  let routing = true;
  call.once('cancelled', () => {
    if (routing)
      controller.abort(
        Date.now() >= deadlineMs - 5 ? new DOMException('the deadline passed', 'TimeoutError') : undefined,
      );
  });
  const stickyKey = exp.stickyHeader ? text(md, exp.stickyHeader) : undefined;
  const debugHeader = exp.experiment.spec.routing?.debugHeaders?.find((h) => md.get(h).length > 0);
  const upstream = {
    signal: controller.signal,
    ...(Number.isFinite(deadlineMs) ? { timeoutMs: deadlineMs - Date.now() } : {}),
  };
  const outcome = await routeInfer(core, exp, {
    id,
    protocol: 'grpc',
    request: json,
    body,
    started,
    ts,
    upstream,
    // A variant with a gRPC port gets the client's message itself (raw contents stay raw).
    send: (variant, outputs) =>
      variant.grpc
        ? upstreams.infer({ ...variant, grpc: variant.grpc }, msg, id, outputs, upstream)
        : undefined,
    ...(forced !== undefined ? { forced } : {}),
    ...(stickyKey !== undefined ? { stickyKey } : {}),
    ...(debugHeader ? { debugHeader } : {}),
  });
  routing = false;
  answer.set(VARIANT_HEADER, outcome.variant.name);

  if (outcome.status !== 200) {
    const details = outcome.error ?? errorText(outcome.body) ?? `the variant answered ${outcome.status}`;
    throw new GrpcError(grpcCode(outcome.status, outcome.upstreamStatus !== undefined), details, answer);
  }
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
  const response = responseFromJson(parsed, (msg.raw_input_contents?.length ?? 0) > 0);
  if (!response.id && msg.id) response.id = msg.id;
  call.sendMetadata(answer);
  // The shadow starts once the answer is on its way (the callback runs before this turn ends).
  if (outcome.mirrored) setImmediate(() => core.shadow.mirror(exp, id, json, body));
  return response;
}

function reject(core: RouterCore, status: number, message: string, metadata: Metadata): never {
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
