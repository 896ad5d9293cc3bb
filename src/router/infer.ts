/**
 * `POST /v2/models/{endpoint}/infer`: validate, pick a variant, proxy, record, answer, mirror.
 *
 * The client's bytes go upstream untouched, and the upstream's bytes come back untouched,
 * except on a request sampled for drift (or mirrored) that names no outputs: then the router
 * also asks for `predict` and `predict_proba` and removes from the answer every output the
 * client would not have got — the model's default outputs, learned from the first request
 * that named none. So the client always gets what it asked for (re-serialised in that one case),
 * and the report gets the class and the score. A model that refuses the extra outputs is asked
 * again exactly as the client asked, and is never asked for them again.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Assignment, RequestEvent } from '../shared/events';
import type { ExperimentRuntime, RoutedVariant } from './config';
import type { RouterCore } from './core';
import {
  PREDICT,
  PREDICT_PROBA,
  firstRowFeatures,
  firstRowOutputs,
  withOutputs,
  type RecordedOutputs,
} from './features';
import { HttpError, parseJson, readBody } from './http';
import { UpstreamError, type UpstreamResponse } from './proxy';
import { stickyUser } from './routing';
import { round3 } from './shadow';
import { checkInferRequest } from './v2';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../shared/routerApi';

const MAX_ID_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** The client's request id when it sent a usable one, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const sent = req.headers[REQUEST_ID_HEADER];
  if (sent === undefined) return randomUUID();
  const id = Array.isArray(sent) ? sent[0]! : sent;
  if (id.length === 0 || id.length > MAX_ID_LENGTH || !PRINTABLE.test(id))
    throw new HttpError(400, `${REQUEST_ID_HEADER} must be 1–${MAX_ID_LENGTH} printable ASCII characters`);
  return id;
}

function forcedVariant(req: IncomingMessage, exp: ExperimentRuntime): number | undefined {
  const forced = req.headers[VARIANT_HEADER];
  if (forced === undefined) return undefined;
  const name = Array.isArray(forced) ? forced[0]! : forced;
  const index = exp.byName.get(name);
  if (index === undefined)
    throw new HttpError(
      400,
      `unknown variant "${name}" in ${VARIANT_HEADER} — experiment ${exp.name} has ${exp.variants.map((v) => v.name).join(', ')}`,
    );
  return index;
}

/** The first of the experiment's debug headers (lowercase, from its file) the request carries. */
function debugHeaderOf(req: IncomingMessage, exp: ExperimentRuntime): string | undefined {
  return exp.experiment.spec.routing?.debugHeaders?.find((h) => req.headers[h] !== undefined);
}

function stickyKey(req: IncomingMessage, exp: ExperimentRuntime): string | undefined {
  if (!exp.stickyHeader) return undefined;
  const v = req.headers[exp.stickyHeader];
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
  const forced = forcedVariant(req, exp);
  const body = await readBody(req, core.settings.limits.maxBodyBytes);
  const parsed = parseJson(body);
  const checked = checkInferRequest(parsed);
  if (!checked.ok) throw new HttpError(400, checked.error);
  const request = checked.value;

  const sticky = forced === undefined ? stickyKey(req, exp) : undefined;
  const hashed = sticky === undefined ? undefined : stickyUser(exp.name, sticky);
  const index = forced ?? exp.split.indexAt(hashed ? hashed.point : Math.random());
  const debugHeader = debugHeaderOf(req, exp);
  const assignment: Assignment =
    forced !== undefined ? 'forced' : debugHeader ? 'debug' : sticky !== undefined ? 'sticky' : 'weighted';
  const variant = exp.variants[index]!;
  const sampled = exp.sampleRate >= 1 || (exp.sampleRate > 0 && Math.random() < exp.sampleRate);
  const mirrored =
    exp.mirror !== undefined && exp.mirror.percent > 0 && Math.random() * 100 < exp.mirror.percent;
  const wantOutputs = sampled || mirrored;
  const extra = wantOutputs && request.outputs === undefined ? extraOutputs(variant) : undefined;
  const headers = { [REQUEST_ID_HEADER]: id };

  let answer: UpstreamResponse | undefined;
  let failure: UpstreamError | undefined;
  let keep: ReadonlySet<string> | undefined;
  try {
    if (extra) {
      answer = await core.upstreams.call(
        variant.target,
        'POST',
        '/infer',
        withOutputs(body, extra.names),
        headers,
      );
      keep = extra.keep;
      if (answer.status >= 400 && answer.status < 500) {
        // Perhaps this model has no predict_proba: ask exactly as the client did.
        answer = await core.upstreams.call(variant.target, 'POST', '/infer', body, headers);
        keep = undefined;
        if (answer.status < 400) variant.augmentable = false;
      }
    } else {
      answer = await core.upstreams.call(variant.target, 'POST', '/infer', body, headers);
    }
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    failure = err;
  }
  const latencyMs = round3(performance.now() - started);

  let status: number;
  let out: Buffer;
  let contentType = 'application/json';
  let outputs: RecordedOutputs | undefined;
  let error: string | undefined;
  if (failure || !answer) {
    status = failure?.status ?? 502;
    error = `variant ${variant.name}: ${failure?.message ?? 'no answer'}`;
    out = Buffer.from(JSON.stringify({ error }));
  } else if (answer.status >= 500) {
    status = 502;
    error = `variant ${variant.name} (${variant.model}) answered ${answer.status}: ${snippet(answer.body)}`;
    out = Buffer.from(JSON.stringify({ error }));
  } else {
    status = answer.status;
    out = answer.body;
    contentType = answer.contentType ?? contentType;
    if (status === 200 && (wantOutputs || (request.outputs === undefined && !variant.defaultOutputs))) {
      const json = tryParse(answer.body);
      if (json !== undefined) {
        if (request.outputs === undefined && !keep && !variant.defaultOutputs) learnDefaults(variant, json);
        if (wantOutputs) outputs = firstRowOutputs(json);
        if (keep) out = Buffer.from(JSON.stringify(onlyOutputs(json, keep)));
      }
    }
  }

  const event: RequestEvent = {
    type: 'request',
    id,
    ts,
    experiment: exp.name,
    variant: variant.name,
    latencyMs,
    status,
    assignment,
  };
  if (debugHeader && assignment === 'debug') event.debugHeader = debugHeader;
  if (hashed && assignment === 'sticky') event.user = hashed.user;
  if (sampled) event.inputs = firstRowFeatures(request, exp.columns);
  if (outputs && (outputs.predict !== undefined || outputs.proba !== undefined)) event.outputs = outputs;
  if (error) event.error = error;
  core.record(event);
  core.metrics.request(exp.name, variant.name, status, latencyMs / 1000, error !== undefined);

  res.writeHead(status, {
    'content-type': contentType,
    'content-length': out.length,
    [VARIANT_HEADER]: variant.name,
  });
  res.end(out);
  if (mirrored) res.once('finish', () => core.shadow.mirror(exp, id, request, body));
}

/** The outputs to ask for and the ones the client gets back, or undefined when not worth it. */
function extraOutputs(variant: RoutedVariant): { names: string[]; keep: ReadonlySet<string> } | undefined {
  const defaults = variant.defaultOutputs;
  // Until the defaults are known the request goes as sent (and teaches them).
  if (!variant.augmentable || !defaults) return undefined;
  const names = [...defaults];
  for (const n of [PREDICT, PREDICT_PROBA]) if (!names.includes(n)) names.push(n);
  if (names.length === defaults.length) return undefined;
  return { names, keep: new Set(defaults) };
}

function learnDefaults(variant: RoutedVariant, json: unknown): void {
  const outs = (json as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outs)) return;
  const names = outs
    .map((o) => (o as { name?: unknown })?.name)
    .filter((n): n is string => typeof n === 'string');
  if (names.length === outs.length) variant.defaultOutputs = names;
}

function onlyOutputs(json: unknown, keep: ReadonlySet<string>): unknown {
  const obj = json as { outputs?: { name?: string }[] };
  if (!Array.isArray(obj.outputs)) return json;
  return { ...obj, outputs: obj.outputs.filter((o) => typeof o?.name === 'string' && keep.has(o.name)) };
}

function tryParse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 300)).replace(/\s+/g, ' ').trim();
  return text || '(empty body)';
}
