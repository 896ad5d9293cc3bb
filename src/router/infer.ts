/**
 * `POST /v2/models/{endpoint}/infer`: the HTTP front of `route.ts`. Reads and checks the JSON
 * body (translating the binary tensor extension, `binaryTensors.ts`), takes the routing hints from the headers (forced variant, sticky key, debug header),
 * answers with the variant and request id in headers, and mirrors once the answer is written.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HEADER_LENGTH, binaryAnswer, plainRequest } from './binaryTensors';
import { HttpError, readBody } from './http';
import { forcedIndex, routeInfer } from './route';
import { checkInferRequest } from './v2';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../shared/routerApi';

const MAX_ID_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** The client's request id when it sent a usable one, else a new one. */
export function requestIdOf(req: IncomingMessage, newId: () => string = randomUUID): string {
  const sent = req.headers[REQUEST_ID_HEADER];
  if (sent === undefined) return newId();
  const id = Array.isArray(sent) ? sent[0]! : sent;
  if (id.length === 0 || id.length > MAX_ID_LENGTH || !PRINTABLE.test(id))
    throw new HttpError(400, `${REQUEST_ID_HEADER} must be 1–${MAX_ID_LENGTH} printable ASCII characters`);
  return id;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Handles one inference request for `exp`; `id` is already in the response headers. */
export async function handleInfer(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const started = performance.now();
  const ts = Date.now();
  const forced = header(req, VARIANT_HEADER);
  // An unknown forced variant is refused before the body is read.
  if (forced !== undefined) forcedIndex(exp, forced);
  const received = await readBody(req, core.settings.limits.maxBodyBytes);
  // The binary tensor extension is translated: upstreams get plain V2 JSON.
  const plain = plainRequest(received, header(req, HEADER_LENGTH));
  const checked = checkInferRequest(plain.json);
  if (!checked.ok) throw new HttpError(400, checked.error);
  const request = checked.value;
  const body = plain.changed ? Buffer.from(JSON.stringify(request)) : received;
  const outcome = await routeInfer(core, exp, {
    id,
    protocol: 'http',
    request,
    body,
    started,
    ts,
    ...(forced !== undefined ? { forced } : {}),
    ...(exp.stickyHeader && header(req, exp.stickyHeader) !== undefined
      ? { stickyKey: header(req, exp.stickyHeader)! }
      : {}),
    ...debugHeaderOf(req, exp),
  });
  const binary =
    plain.binaryOutputs && outcome.status === 200
      ? binaryAnswer(outcome.body, plain.binaryOutputs)
      : undefined;
  const out = binary?.body ?? outcome.body;
  res.writeHead(outcome.status, {
    'content-type': binary ? 'application/octet-stream' : outcome.contentType,
    'content-length': out.length,
    [VARIANT_HEADER]: outcome.variant.name,
    ...(binary ? { [HEADER_LENGTH]: binary.headerLength } : {}),
  });
  res.end(out);
  if (outcome.mirrored) res.once('finish', () => core.shadow.mirror(exp, id, request, body));
}

/** The first of the experiment's debug headers (lowercase, from its file) the request carries. */
function debugHeaderOf(req: IncomingMessage, exp: ExperimentRuntime): { debugHeader?: string } {
  const found = exp.experiment.spec.routing?.debugHeaders?.find((h) => req.headers[h] !== undefined);
  return found ? { debugHeader: found } : {};
}
