/**
 * `POST /v2/models/{endpoint}/infer`: the HTTP front of `route.ts`, for either HTTP front
 * (node:http here, the raw front in `front/`). `inferHead` takes the routing hints from the
 * headers (forced variant, sticky key, debug header) before the body is read; `answerInfer`
 * checks the JSON body (translating the binary tensor extension, `binaryTensors.ts`), routes it
 * and returns the answer with the variant in its headers, and the mirroring to start once the
 * answer is written.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HEADER_LENGTH, binaryAnswer, plainRequest } from './binaryTensors';
import { HttpError, headerOf, readBody, type HeaderOf } from './http';
import { forcedIndex, routeInfer } from './route';
import { checkInferRequest } from './v2';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../shared/routerApi';

const MAX_ID_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** The client's request id when it sent a usable one, else a new one. */
export function requestIdOf(header: HeaderOf, newId: () => string = randomUUID): string {
  const id = header(REQUEST_ID_HEADER);
  if (id === undefined) return newId();
  if (id.length === 0 || id.length > MAX_ID_LENGTH || !PRINTABLE.test(id))
    throw new HttpError(400, `${REQUEST_ID_HEADER} must be 1–${MAX_ID_LENGTH} printable ASCII characters`);
  return id;
}

/** An inference request as its headers describe it, checked before its body is read. */
export interface InferHead {
  exp: ExperimentRuntime;
  id: string;
  /** performance.now() and epoch ms when the head was read. */
  started: number;
  ts: number;
  forced: string | undefined;
  stickyKey: string | undefined;
  debugHeader: string | undefined;
  /** The binary tensor extension's Inference-Header-Content-Length. */
  binaryHeader: string | undefined;
}

/** The answer for the client, ready to write; `mirror` starts the shadow once it is written. */
export interface InferAnswer {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
  mirror: (() => void) | undefined;
}

/** Reads the routing hints from the headers; an unknown forced variant is refused (400) before the body is read. */
export function inferHead(exp: ExperimentRuntime, id: string, header: HeaderOf): InferHead {
  const started = performance.now();
  const ts = Date.now();
  const forced = header(VARIANT_HEADER);
  if (forced !== undefined) forcedIndex(exp, forced);
  return {
    exp,
    id,
    started,
    ts,
    forced,
    stickyKey: exp.stickyHeader ? header(exp.stickyHeader) : undefined,
    // The first of the experiment's debug headers (lowercase, from its file) the request carries.
    debugHeader: exp.experiment.spec.routing?.debugHeaders?.find((h) => header(h) !== undefined),
    binaryHeader: header(HEADER_LENGTH),
  };
}

/** Checks the body, routes the request and makes the answer (errors the client caused throw HttpError). */
export async function answerInfer(core: RouterCore, head: InferHead, received: Buffer): Promise<InferAnswer> {
  const { exp, id } = head;
  // The binary tensor extension is translated: upstreams get plain V2 JSON.
  const plain = plainRequest(received, head.binaryHeader);
  const checked = checkInferRequest(plain.json);
  if (!checked.ok) throw new HttpError(400, checked.error);
  const request = checked.value;
  const body = plain.changed ? Buffer.from(JSON.stringify(request)) : received;
  const outcome = await routeInfer(core, exp, {
    id,
    protocol: 'http',
    request,
    body,
    started: head.started,
    ts: head.ts,
    ...(head.forced !== undefined ? { forced: head.forced } : {}),
    ...(head.stickyKey !== undefined ? { stickyKey: head.stickyKey } : {}),
    ...(head.debugHeader !== undefined ? { debugHeader: head.debugHeader } : {}),
  });
  const binary =
    plain.binaryOutputs && outcome.status === 200
      ? binaryAnswer(outcome.body, plain.binaryOutputs)
      : undefined;
  const out = binary?.body ?? outcome.body;
  return {
    status: outcome.status,
    headers: {
      'content-type': binary ? 'application/octet-stream' : outcome.contentType,
      'content-length': out.length,
      [VARIANT_HEADER]: outcome.variant.name,
      ...(binary ? { [HEADER_LENGTH]: binary.headerLength } : {}),
    },
    body: out,
    mirror: outcome.mirrored ? () => core.shadow.mirror(exp, id, request, body) : undefined,
  };
}

/** Handles one inference request for `exp` on node:http; `id` is already in the response headers. */
export async function handleInfer(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const head = inferHead(exp, id, headerOf(req));
  const received = await readBody(req, core.settings.limits.maxBodyBytes);
  const answer = await answerInfer(core, head, received);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
  const { mirror } = answer;
  if (mirror) res.once('finish', mirror);
}
